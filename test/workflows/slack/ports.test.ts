import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerSlackSecrets, SlackSecretsError } from '../../../workflows/slack/secrets';
import { WebApiSlackPort, ephemeral } from '../../../workflows/slack/slack-port';
import { SdkSnsPort } from '../../../workflows/slack/sns-port';
import { SfnTaskCallback, TaskGoneError } from '../../../workflows/slack/task-callback';
import { SlackApiError, WardenSlackError } from '../../../workflows/slack/errors';

const sm = mockClient(SecretsManagerClient);
const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
beforeEach(() => { sm.reset(); sfnMock.reset(); snsMock.reset(); });

describe('Slack Web API port (local HTTP server standing in for slack.com)', () => {
  let server: Server;
  let base: string;
  const seen: { path: string; auth: string | undefined; body: string }[] = [];
  let answer: (path: string) => { status: number; json: unknown } = () => ({ status: 200, json: { ok: true } });
  const read = (req: IncomingMessage) => new Promise<string>((resolve) => { let b = ''; req.on('data', (c) => { b += c; }); req.on('end', () => resolve(b)); });
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const body = await read(req);
      seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
      const a = answer(req.url ?? '');
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.json));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => { seen.length = 0; });

  const port = (token = 'xoxb-test') => new WebApiSlackPort({ botToken: async () => token, slackApiUrl: `${base}/api/`, responseUrlPrefix: `${base}/hooks/`, timeoutMs: 2000 });

  it('posts and updates messages with the bot token', async () => {
    answer = (p) => (p.includes('chat.postMessage') ? { status: 200, json: { ok: true, channel: 'C0PAY', ts: '1700000000.000100' } } : { status: 200, json: { ok: true } });
    const p = port();
    const ref = await p.postMessage('C0PAY', { text: 'hello', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }] });
    expect(ref).toEqual({ channel: 'C0PAY', ts: '1700000000.000100' });
    await p.updateMessage(ref, { text: 'done', blocks: [] });
    expect(seen.map((s) => s.path)).toEqual(['/api/chat.postMessage', '/api/chat.update']);
    expect(seen[0]!.auth).toBe('Bearer xoxb-test');
    expect(new URLSearchParams(seen[1]!.body).get('ts')).toBe('1700000000.000100');
  });

  it('turns ok:false into a SlackApiError that says what to check', async () => {
    answer = () => ({ status: 200, json: { ok: false, error: 'not_in_channel' } });
    await expect(port().postMessage('C0PAY', { text: 'x', blocks: [] })).rejects.toThrow(/not_in_channel.*chat:write/);
  });

  it('refuses an empty bot token', async () => {
    await expect(port('').postMessage('C0PAY', { text: 'x', blocks: [] })).rejects.toBeInstanceOf(SlackApiError);
  });

  it('replies through response_url, only to the pinned prefix', async () => {
    answer = () => ({ status: 200, json: {} });
    await port().respond(`${base}/hooks/actions/T/1/abc`, ephemeral('noted'));
    expect(JSON.parse(seen[0]!.body)).toEqual({ text: 'noted', response_type: 'ephemeral', replace_original: false });
    await expect(port().respond('http://169.254.169.254/latest/meta-data', ephemeral('x'))).rejects.toThrow(/refusing to POST/);
    answer = () => ({ status: 404, json: {} });
    await expect(port().respond(`${base}/hooks/x`, ephemeral('x'))).rejects.toThrow(/HTTP 404/);
  });
});

describe('Slack secrets from Secrets Manager', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => { now = 1_000_000; });

  it('reads one JSON secret with the previous signing secret, and caches it', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ signingSecret: 'new', previousSigningSecret: 'old', botToken: 'xoxb-1' }) });
    const s = new SecretsManagerSlackSecrets({ client: new SecretsManagerClient({}), secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack', clock });
    expect(await s.get()).toEqual({ signingSecrets: ['new', 'old'], botToken: 'xoxb-1' });
    await s.get();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    now += 301_000;
    await s.get();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('reads two plain secrets; a forced refresh is honoured only once the cache is a minute old', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'sign' }).resolves({ SecretString: 'signing-secret' });
    sm.on(GetSecretValueCommand, { SecretId: 'bot' }).resolves({ SecretString: 'xoxb-2' });
    const s = new SecretsManagerSlackSecrets({ client: new SecretsManagerClient({}), signingSecretArn: 'sign', botTokenArn: 'bot', clock });
    expect(await s.get()).toEqual({ signingSecrets: ['signing-secret'], botToken: 'xoxb-2' });
    await s.get({ forceRefresh: true });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    now += 61_000;
    await s.get({ forceRefresh: true });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(4);
  });

  it('a part that is not configured stays empty (verification then fails closed)', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'xoxb-3' });
    const s = new SecretsManagerSlackSecrets({ client: new SecretsManagerClient({}), botTokenArn: 'bot', clock });
    expect(await s.get()).toEqual({ signingSecrets: [], botToken: 'xoxb-3' });
  });

  it('clear errors: nothing configured, empty value, binary secret, access denied', async () => {
    expect(() => new SecretsManagerSlackSecrets({ client: new SecretsManagerClient({}), clock })).toThrow(/WARDEN_SLACK_SIGNING_SECRET_ARN/);
    sm.on(GetSecretValueCommand, { SecretId: 'empty' }).resolves({ SecretString: '{"signingSecret":""}' });
    sm.on(GetSecretValueCommand, { SecretId: 'bin' }).resolves({ SecretBinary: new Uint8Array([1]) });
    sm.on(GetSecretValueCommand, { SecretId: 'denied' }).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }));
    const mk = (arn: string) => new SecretsManagerSlackSecrets({ client: new SecretsManagerClient({}), signingSecretArn: arn, clock });
    await expect(mk('empty').get()).rejects.toBeInstanceOf(SlackSecretsError);
    await expect(mk('bin').get()).rejects.toThrow(/no SecretString/);
    await expect(mk('denied').get()).rejects.toThrow(/cannot read secret denied: AccessDeniedException/);
  });
});

describe('task callbacks through the Step Functions API', () => {
  it('sends success with JSON output and heartbeats', async () => {
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    sfnMock.on(SendTaskHeartbeatCommand).resolves({});
    const cb = new SfnTaskCallback(new SFNClient({}));
    await cb.sendTaskSuccess('tok', { outcome: 'approved' });
    await cb.sendTaskHeartbeat('tok');
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({ taskToken: 'tok', output: '{"outcome":"approved"}' });
    expect(sfnMock.commandCalls(SendTaskHeartbeatCommand)).toHaveLength(1);
  });

  it.each(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'])('%s means the task is gone', async (name) => {
    sfnMock.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('x'), { name }));
    await expect(new SfnTaskCallback(new SFNClient({})).sendTaskSuccess('tok', {})).rejects.toBeInstanceOf(TaskGoneError);
  });

  it('other failures are transient errors, not "gone"', async () => {
    sfnMock.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    const err = await new SfnTaskCallback(new SFNClient({})).sendTaskSuccess('tok', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WardenSlackError);
    expect(err).not.toBeInstanceOf(TaskGoneError);
  });
});

describe('SNS port', () => {
  it('publishes with an ASCII subject of at most 100 characters', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm1' });
    const out = await new SdkSnsPort(new SNSClient({})).publish('arn:aws:sns:us-east-1:123456789012:pager', `[Warden] ${'é'.repeat(200)}`, 'body');
    expect(out).toEqual({ messageId: 'm1' });
    const input = snsMock.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.Subject).toHaveLength(100);
    expect(input.Subject).toMatch(/^[\x20-\x7e]+$/);
  });
});
