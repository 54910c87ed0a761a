import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TABLES } from '../../../engine/audit/tables';
import { callbackIdFor } from '../../../workflows/slack/callback-store';
import { computeSlackSignature } from '../../../workflows/slack/signature';
import { parseApproversConfig } from '../../../workflows/slack/approvers';
import { APPROVERS_CONFIG_ENV } from '../../../workflows/slack/lambda-env';
import { SLACK_SECRET_ENV } from '../../../workflows/slack/secrets';
import { RULES } from './harness';

/* eslint-disable @typescript-eslint/no-require-imports -- jest.isolateModules needs a synchronous require to load a fresh copy of a handler module */

const sm = mockClient(SecretsManagerClient);
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);
const SECRET = 'lambda-test-secret';
const saved = { ...process.env };

beforeEach(() => {
  sm.reset(); sfn.reset(); ddb.reset();
  process.env = {
    ...saved,
    AWS_REGION: 'us-east-1',
    [TABLES.approvals.env]: 'approvals-table',
    [TABLES.audit.env]: 'audit-table',
    [SLACK_SECRET_ENV.signingSecret]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/slack/signing-secret-AbCdEf',
    [APPROVERS_CONFIG_ENV]: JSON.stringify(parseApproversConfig(readFileSync(join(RULES, 'approvers.yaml'), 'utf8'))),
  };
});
afterAll(() => { process.env = saved; });

function signedClick(user: string, approvalId: string) {
  const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: user }, actions: [{ action_id: 'warden_approve', value: approvalId }] }))}`;
  const ts = String(Math.floor(Date.now() / 1000));
  return { version: '2.0', headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': computeSlackSignature(SECRET, ts, Buffer.from(body)) }, body, isBase64Encoded: false, requestContext: { http: { method: 'POST' } } };
}

describe('interactivity Lambda handler (env wiring, SDK clients mocked)', () => {
  it('reads the signing secret from Secrets Manager, decides once through DynamoDB, answers Step Functions', async () => {
    const approvalId = callbackIdFor('approval', 'arn:exec', 'RequestApproval');
    sm.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
    const item = { approvalId, kind: 'approval', status: 'pending', taskToken: 'real-token', functionName: 'payments-worker', incidentId: 'inc-1', decisionId: 'd', executionId: 'arn:exec', stateName: 'RequestApproval', createdAt: '', expiresAt: Date.now() + 3600_000, heartbeatSeconds: 3600, messages: [], ttl: 0 };
    ddb.on(GetCommand).resolves({ Item: item });
    ddb.on(UpdateCommand).resolves({ Attributes: item });
    ddb.on(PutCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).resolves({});
    // the shared module registry, so the SDK clients it builds are the mocked ones
    const { handler } = await import('../../../workflows/slack/interactivity');
    const res = await handler(signedClick('U0APPROVER1', approvalId));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).text).toMatch(/you approved/);
    expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input.SecretId).toMatch(/signing-secret/);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.taskToken).toBe('real-token');
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.TableName).toBe('approvals-table');
    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.TableName).toBe('audit-table');
    // the secret is cached across invocations of a container
    await handler(signedClick('U0INTRUDER1', approvalId));
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('a missing environment answers 500 without deciding anything', async () => {
    delete process.env[APPROVERS_CONFIG_ENV];
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => { errors.push(m); });
    // a fresh module (no deps cached from the test above); it fails before any SDK call
    let handler!: (e: unknown) => Promise<{ statusCode: number }>;
    jest.isolateModules(() => { ({ handler } = require('../../../workflows/slack/interactivity') as { handler: typeof handler }); });
    expect((await handler(signedClick('U0APPROVER1', 'apr_x'))).statusCode).toBe(500);
    spy.mockRestore();
    expect(errors.join('\n')).toMatch(/WARDEN_APPROVERS_CONFIG/);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });
});

describe('task Lambda handlers dispatch on the payload task', () => {
  it('refuse an unknown task with a clear error', async () => {
    process.env[SLACK_SECRET_ENV.botToken] = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bot';
    process.env[TABLES.exceptions.env] = 'exceptions-table';
    let approval!: (e: unknown) => Promise<unknown>;
    let escalate!: (e: unknown) => Promise<unknown>;
    jest.isolateModules(() => {
      ({ handler: approval } = require('../../../workflows/approval/handler') as { handler: typeof approval });
      ({ handler: escalate } = require('../../../workflows/escalate/handler') as { handler: typeof escalate });
    });
    await expect(approval({ task: 'launch-missiles' })).rejects.toThrow(/approval task "launch-missiles" is unknown; expected one of claim, request/);
    await expect(escalate({ task: 'notify' })).rejects.toThrow(/escalate.notify: bad input/);
  });
});
