import { join } from 'node:path';
import {
  ApproversConfigSchema, approvalChannelFor, approvalMaxWait, approversFor, exceptionTtlFor, isApprover,
  loadApproversConfig, parseApproversConfig,
} from '../../../workflows/slack/approvers';
import { ConfigFileError } from '../../../workflows/slack/errors';
import { functionGlobMatches } from '../../../workflows/slack/config-file';

const RULES = join(__dirname, '../../../rules');

function issuesOf(text: string) {
  try {
    parseApproversConfig(text, 'approvers.yaml');
  } catch (err) {
    if (err instanceof ConfigFileError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigFileError');
}

describe('approvers.yaml', () => {
  it('loads the shipped example and answers who may approve', async () => {
    const cfg = await loadApproversConfig(RULES);
    expect(isApprover(cfg, 'payments-worker', 'U0APPROVER1')).toBe(true);
    expect(isApprover(cfg, 'payments-refunds', 'U0APPROVER2')).toBe(true);
    expect(isApprover(cfg, 'payments-worker', 'U0SECLEAD1')).toBe(true); // admin
    expect(isApprover(cfg, 'payments-worker', 'U0INTRUDER1')).toBe(false);
    expect(isApprover(cfg, 'payments-worker', 'U0ORDERSLEAD')).toBe(false);
    expect(isApprover(cfg, 'orders-api', 'U0ORDERSLEAD')).toBe(true);
    expect(approversFor(cfg, 'unknown-fn')).toEqual(['U0SECLEAD1']);
    expect(approvalChannelFor(cfg, 'payments-worker')).toBe('C0PAYMENTSOPS');
    expect(approvalChannelFor(cfg, 'orders-api')).toBe('C0WARDENAPPR');
    expect(exceptionTtlFor(cfg, 'payments-worker')).toBe(8 * 3600);
    expect(exceptionTtlFor(cfg, 'image-resizer')).toBe(24 * 3600);
    expect(cfg.approval).toMatchObject({ timeout: 3600, maxWait: 4 * 3600, onTimeout: 'deny', onDeny: 'escalate' });
  });

  it('applies defaults', () => {
    const cfg = ApproversConfigSchema.parse({ admins: ['U0ADMIN01'], approval: { channel: 'C0CHAN001' } });
    expect(cfg.approval).toEqual({ timeout: 3600, onTimeout: 'deny', onDeny: 'quarantine', exceptionTtl: 86400, channel: 'C0CHAN001' });
    expect(approvalMaxWait(cfg.approval)).toBe(4 * 3600);
    expect(cfg.groups).toEqual([]);
  });

  it('reports an unknown key with its line', () => {
    const issues = issuesOf('approval:\n  channel: C0CHAN001\ngroups:\n  - functions: [a]\n    aprovers: [U0AAAA1]\n');
    expect(issues.some((i) => i.path === 'groups[0].aprovers' && i.line === 4)).toBe(true);
    expect(issues.some((i) => i.path === 'groups[0].approvers')).toBe(true);
  });

  it('rejects names instead of Slack ids, bad durations and bad globs, with lines', () => {
    const issues = issuesOf([
      'approval:',
      '  channel: "#payments"',
      '  timeout: 10 minutes',
      'groups:',
      '  - functions: ["payments-?"]',
      '    approvers: ["@alice"]',
    ].join('\n'));
    expect(issues).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'approval.channel', line: 2, message: expect.stringContaining('channel id') }),
      expect.objectContaining({ path: 'approval.timeout', line: 3, message: expect.stringContaining('duration') }),
      expect.objectContaining({ path: 'groups[0].functions[0]', line: 5 }),
      expect.objectContaining({ path: 'groups[0].approvers[0]', line: 6, message: expect.stringContaining('user id') }),
    ]));
  });

  it('rejects a maxWait not above timeout, nobody to approve, no channel, and shadowed groups', () => {
    expect(issuesOf('approval: { channel: C0CHAN001, timeout: 1h, maxWait: 1h }\nadmins: [U0ADMIN01]\n')).toEqual([
      expect.objectContaining({ path: 'approval.maxWait', message: expect.stringContaining('HeartbeatSeconds < TimeoutSeconds') }),
    ]);
    expect(issuesOf('approval: { channel: C0CHAN001 }\n')[0]?.message).toMatch(/nobody can approve/);
    expect(issuesOf('groups: [{ functions: [a], approvers: [U0AAAA1] }]\n')[0]?.path).toBe('approval.channel');
    expect(issuesOf('approval: { channel: C0CHAN001 }\ngroups:\n  - { functions: [a], approvers: [U0AAAA1] }\n  - { functions: [a], approvers: [U0BBBB1] }\n')).toEqual([
      expect.objectContaining({ path: 'groups[1].functions[0]', line: 4, message: expect.stringContaining('never applies') }),
    ]);
  });

  it('reports YAML syntax errors and duplicate keys', () => {
    expect(issuesOf('approval: [\n')[0]?.message).toMatch(/YAML syntax/);
    expect(issuesOf('admins: [U0ADMIN01]\nadmins: [U0ADMIN02]\n')[0]?.message).toMatch(/YAML syntax/);
  });

  it('says how to fix a missing file', async () => {
    await expect(loadApproversConfig('/nonexistent/rules')).rejects.toThrow(/cannot read the approvers file \(ENOENT\)/);
  });
});

describe('function globs', () => {
  it.each([
    ['payments-*', 'payments-worker', true],
    ['payments-*', 'payments-', true],
    ['payments-*', 'payments', false],
    ['*-worker', 'payments-worker', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['a*a', 'a', false],
    ['*', 'anything', true],
    ['orders-api', 'orders-api', true],
    ['orders-api', 'orders-api-2', false],
  ])('%s vs %s → %s', (p, n, want) => {
    expect(functionGlobMatches(p, n)).toBe(want);
  });
});
