import { join } from 'node:path';
import {
  EscalationConfigSchema, ackersFor, escalationPlanFor, escalationPlans, loadEscalationConfig, parseEscalationConfig, tierMaxWait,
} from '../../../workflows/escalate/escalation-config';
import { ConfigFileError } from '../../../workflows/slack/errors';

const RULES = join(__dirname, '../../../rules');

function issuesOf(text: string) {
  try {
    parseEscalationConfig(text);
  } catch (err) {
    if (err instanceof ConfigFileError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigFileError');
}

describe('escalation.yaml', () => {
  it('loads the shipped example: image-resizer has its own tiers, orders repeats, others use the default', async () => {
    const cfg = await loadEscalationConfig(RULES);
    const image = escalationPlanFor(cfg, 'image-resizer');
    expect(image.key).toBe('media');
    expect(image.tiers.map((t) => [t.name, t.ackTimeout])).toEqual([['media-on-call', 120], ['security-lead', 300]]);
    expect(image.finalAction).toBe('quarantine');
    const orders = escalationPlanFor(cfg, 'orders-api');
    expect(orders).toMatchObject({ key: 'orders', finalAction: 'repeat', cycles: 2 });
    expect(orders.tiers).toBe(cfg.tiers);
    const other = escalationPlanFor(cfg, 'payments-worker');
    expect(other.key).toBe('default');
    expect(other.tiers[0]).toMatchObject({ name: 'on-call', ackTimeout: 300, maxWait: 1800, repeats: 1, sns: 'oncall-pager' });
    expect(tierMaxWait(other.tiers[2]!)).toBe(3600);
    expect(ackersFor(cfg, other)).toEqual(['U0ONCALL1', 'U0ONCALL2', 'U0SECLEAD1', 'U0CISO0001', 'U0SOCANALYST']);
    expect(escalationPlans(cfg).map((p) => p.key)).toEqual(['media', 'orders', 'default']);
  });

  it('applies defaults', () => {
    const cfg = EscalationConfigSchema.parse({ tiers: [{ name: 't1', sns: 'pager', ackTimeout: '5m' }] });
    expect(cfg).toMatchObject({ finalAction: 'quarantine', cycles: 3, ackers: [], overrides: [] });
    expect(cfg.tiers[0]).toMatchObject({ ackTimeout: 300, repeats: 0 });
  });

  it('rejects a tier that notifies nobody, maxWait ≤ ackTimeout, unknown keys and bad final actions', () => {
    expect(issuesOf('tiers:\n  - name: t1\n    ackTimeout: 5m\n')[0]).toMatchObject({ path: 'tiers[0]', line: 2, message: expect.stringContaining('notifies nobody') });
    expect(issuesOf('tiers:\n  - { name: t1, sns: p, ackTimeout: 5m, maxWait: 300 }\n')[0]).toMatchObject({ path: 'tiers[0].maxWait', message: expect.stringContaining('HeartbeatSeconds') });
    expect(issuesOf('tiers:\n  - { name: t1, sns: p, ackTimeout: 5m, timeout: 1 }\n')[0]).toMatchObject({ path: 'tiers[0].timeout', line: 2 });
    expect(issuesOf('tiers: [{ name: t1, sns: p, ackTimeout: 5m }]\nfinalAction: reboot\n')[0]).toMatchObject({ path: 'finalAction', line: 2 });
    expect(issuesOf('tiers: []\n')[0]?.message).toMatch(/at least one tier/);
    expect(issuesOf('tiers: [{ name: t1, sns: "arn:aws:sns:us-east-1:1:x", ackTimeout: 5m }]\n')[0]?.path).toBe('tiers[0].sns');
  });

  it('rejects duplicate tier names, plan names and shadowed overrides', () => {
    expect(issuesOf('tiers: [{ name: a, sns: p, ackTimeout: 60 }]\noverrides:\n  - { name: x, functions: [a] }\n  - { name: x, functions: [b] }\n')[0]).toMatchObject({ path: 'overrides[1].name', message: expect.stringContaining('used twice') });
    expect(issuesOf('tiers: [{ name: a, sns: p, ackTimeout: 60 }]\noverrides:\n  - { name: default, functions: [a] }\n')[0]).toMatchObject({ path: 'overrides[0].name' });
    expect(issuesOf('tiers:\n  - { name: a, sns: p, ackTimeout: 60 }\n  - { name: a, sns: p, ackTimeout: 60 }\n')[0]).toMatchObject({ path: 'tiers[1].name', line: 3 });
    expect(issuesOf('tiers: [{ name: a, sns: p, ackTimeout: 60 }]\noverrides:\n  - { functions: [x], finalAction: none }\n  - { functions: [x], finalAction: repeat }\n')[0]).toMatchObject({ path: 'overrides[1].functions[0]', message: expect.stringContaining('never applies') });
  });
});
