import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Warden, WardenPropsError, type WardenProps } from '../../infra/warden';
import { resolveWardenProps } from '../../infra/warden-props';
import { WARDEN_DEFAULTS } from '../../infra/warden-defaults';

const RULES = resolve(__dirname, '../../rules');
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/slack-AbCdEf';

/** Constructs a Warden with `props` in a fresh stack; validation runs before anything is built. */
function build(props: Partial<WardenProps> & Record<string, unknown>): () => void {
  return () => {
    const stack = new Stack(new App(), 'T');
    new Warden(stack, 'Warden', { rules: RULES, ...props } as WardenProps);
  };
}

describe('Warden props: defaults', () => {
  it('merges user props over the defaults', () => {
    const r = resolveWardenProps({ rules: RULES, targets: { retryAttempts: 3 }, engine: { memorySize: 1024 } });
    expect(r.rulesDir).toBe(RULES);
    expect(r.busName).toBe(WARDEN_DEFAULTS.busName);
    expect(r.targets.retryAttempts).toBe(3);
    expect(r.targets.maxEventAge.toSeconds()).toBe(WARDEN_DEFAULTS.targets.maxEventAge.toSeconds());
    expect(r.engine.memorySize).toBe(1024);
    expect(r.engine.timeout.toSeconds()).toBe(WARDEN_DEFAULTS.engine.timeout.toSeconds());
    expect(r.protectedTag).toEqual({ key: 'warden:protected', value: 'true' });
    expect(r.removalPolicy).toBe(RemovalPolicy.RETAIN);
    expect(r.slack).toEqual({});
  });

  it('resolves a relative rules path against the base directory', () => {
    expect(resolveWardenProps({ rules: './rules' }, resolve(__dirname, '../..')).rulesDir).toBe(RULES);
  });
});

describe('Warden props: each invalid combination fails at synth with a helpful message', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'warden-props-')), 'global.yaml');
  writeFileSync(file, 'allow: []\n');
  const emptyDir = mkdtempSync(join(tmpdir(), 'warden-empty-rules-'));
  const badDir = mkdtempSync(join(tmpdir(), 'warden-bad-rules-'));
  writeFileSync(join(badDir, 'global.yaml'), 'allow:\n  - host: api.example.com\n    colour: red\n');
  const stack = new Stack(new App(), 'Secrets');
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', SECRET_ARN);

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['no rules path', { rules: '' }, /"rules" must be the path of your rules directory/],
    ['rules directory missing', { rules: '/nonexistent/warden-rules' }, /rules directory \/nonexistent\/warden-rules does not exist/],
    ['rules is a file', { rules: file }, /rules must be a directory, but .* is a file/],
    ['rules directory without rules', { rules: emptyDir }, /no rules found in .*: expected global.yaml and\/or functions/],
    ['rules that do not compile', { rules: badDir }, /the rules in .* do not compile \(run `warden rules lint/],
    ['signing secret given twice', { slack: { signingSecret: secret, signingSecretArn: SECRET_ARN } }, /slack.signingSecret or slack.signingSecretArn, not both/],
    ['bot token given twice', { slack: { botToken: secret, botTokenArn: SECRET_ARN } }, /slack.botToken or slack.botTokenArn, not both/],
    ['secret ARN malformed', { slack: { botTokenArn: 'arn:aws:ssm:us-east-1:123456789012:parameter/x' } }, /must be a Secrets Manager secret ARN/],
    ['secret value instead of ARN', { slack: { botTokenArn: 'xoxb-123-456-abc' } }, /Never pass the secret value itself/],
    ['default bus', { busName: 'default' }, /busName cannot be "default"/],
    ['bad bus name', { busName: 'has space' }, /busName must be 1–256 characters/],
    ['archive retention too short', { archiveRetention: Duration.hours(1) }, /archiveRetention must be between 1 day/],
    ['bad agent account', { agentAccounts: ['12345'] }, /12-digit AWS account ids, got "12345"/],
    ['protected tag collides with Warden\'s own tag', { protectedTag: { key: 'warden:component', value: 'x' } }, /must never act on Warden itself/],
    ['protected tag in the aws: namespace', { protectedTag: { key: 'aws:cloudformation:stack-name', value: 'x' } }, /reserved "aws:" prefix/],
    ['empty protected tag', { protectedTag: { key: 'k', value: '' } }, /non-empty key and value/],
    ['too many retries', { targets: { retryAttempts: 500 } }, /targets.retryAttempts must be an integer from 0 to 185, got 500/],
    ['max event age too long', { targets: { maxEventAge: Duration.hours(48) } }, /targets.maxEventAge must be between 1 minute and 1 day/],
    ['DLQ retention too long', { targets: { deadLetterRetention: Duration.days(30) } }, /targets.deadLetterRetention must be between/],
    ['engine memory', { engine: { memorySize: 64 } }, /engine.memorySize must be an integer from 128 to 10240/],
    ['engine timeout', { engine: { timeout: Duration.minutes(20) } }, /engine.timeout must be between/],
    ['idempotency shorter than retries', { targets: { maxEventAge: Duration.hours(6) }, engine: { idempotencyTtl: Duration.hours(1) } }, /idempotencyTtl \(1 hour\) must be at least targets.maxEventAge \(6 hours\)/],
    ['log retention not a CloudWatch value', { engine: { logRetentionDays: 10 } }, /logRetentionDays must be one of/],
    ['bad topic key', { topics: { 'on call!': undefined } }, /topics keys are short names/],
  ];

  it.each(cases)('%s', (_name, props, message) => {
    expect(build(props)).toThrow(WardenPropsError);
    expect(build(props)).toThrow(message);
  });

  it('no props at all', () => {
    expect(() => new Warden(new Stack(new App(), 'X'), 'Warden', undefined as unknown as WardenProps)).toThrow(/props are required/);
  });
});
