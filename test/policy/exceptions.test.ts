import { compilePolicy, loadRulesFromFiles, readBundle, toBundle } from '../../engine/policy';
import { NOW } from './helpers';

const repo = loadRulesFromFiles([
  { path: 'global.yaml', text: 'deny:\n  - { id: paste, host: "*.pastebin.com", severity: critical }\n' },
  { path: 'functions/p.yaml', text: 'functions: [payments-worker]\nmode: block\nallow:\n  - { id: stripe, host: api.stripe.com }\n' },
]);
const refunds = { kind: 'aws' as const, service: 'dynamodb', action: 'GetItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/refunds' };

describe('time-bound exceptions', () => {
  const exceptions = [
    { id: 'apr-1', functionName: 'payments-worker', entry: { aws: 'dynamodb:GetItem', resource: refunds.resource }, expiresAt: NOW + 3_600_000 },
    { id: 'apr-2', functionName: 'payments-worker', entry: { host: 'x.pastebin.com' }, expiresAt: NOW + 3_600_000 },
  ];
  const p = compilePolicy(repo, { exceptions });
  it('allow exactly the approved access, for that function, until expiresAt', () => {
    expect(p.decide({ name: 'payments-worker' }, refunds, NOW)).toEqual({ verdict: 'allow', rule: 'exception:apr-1', severity: 'info' });
    expect(p.decide({ name: 'payments-worker' }, { ...refunds, action: 'DeleteItem' }, NOW).verdict).toBe('unlisted');
    expect(p.decide({ name: 'payments-worker' }, refunds, NOW + 3_600_000).verdict).toBe('unlisted');
    expect(p.decide({ name: 'payments-worker-2' }, refunds, NOW).verdict).toBe('allow'); // no rules file: allow by default
  });
  it('never override a deny', () => {
    expect(p.decide({ name: 'payments-worker' }, { kind: 'http', host: 'x.pastebin.com' }, NOW).verdict).toBe('deny');
  });
  it('change the policy version and survive a bundle round trip', () => {
    expect(p.policyVersion).not.toBe(compilePolicy(repo).policyVersion);
    const b = readBundle(JSON.stringify(toBundle(p)));
    expect(b.policyVersion).toBe(p.policyVersion);
    expect(b.decide({ name: 'payments-worker' }, refunds, NOW).rule).toBe('exception:apr-1');
  });
});
