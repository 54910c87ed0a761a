import { runGolden, runLint } from '../../engine/cli/commands/rules';
import { compilePolicy, loadRulesDir } from '../../engine/policy';

const io = () => {
  const out: string[] = [];
  return { out, io: { out: (l: string) => out.push(l), err: (l: string) => out.push(l), now: () => Date.parse('2026-11-23T18:00:00Z') } };
};

describe('the shipped rules repo', () => {
  it('lints clean', async () => {
    const c = io();
    expect(await runLint('rules', c.io)).toBe(0);
  });
  it('passes its golden tests (warden rules test rules)', async () => {
    const c = io();
    const code = await runGolden('rules', c.io);
    if (code !== 0) throw new Error(c.out.join('\n'));
    expect(code).toBe(0);
  });
  it('has what the demo relies on', async () => {
    const repo = await loadRulesDir('rules');
    const p = compilePolicy(repo);
    expect(p.modeFor('orders-api')).toBe('block');
    expect(p.modeFor('payments-worker')).toBe('block');
    expect(p.modeFor('image-resizer')).toBe('monitor');
    const now = Date.parse('2026-11-23T18:00:00Z');
    expect(p.decide({ name: 'payments-worker' }, { kind: 'aws', service: 'dynamodb', action: 'GetItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/refunds' }, now).verdict).toBe('unlisted');
    expect(p.decide({ name: 'orders-api' }, { kind: 'http', host: 'pastebin.com' }, now)).toMatchObject({ verdict: 'deny', severity: 'critical' });
    expect(p.decide({ name: 'image-resizer' }, { kind: 'http', host: 'cdn-metrics.example.net' }, now).verdict).toBe('unlisted');
    expect(p.decide({ name: 'image-resizer' }, { kind: 'aws', service: 's3', action: 'GetObject', resource: 'arn:aws:s3:::acme-uploads/a.jpg' }, now).verdict).toBe('allow');
    for (const a of ['169.254.169.254', 'fd00:ec2::254']) expect(p.decide({ name: 'x' }, { kind: 'tcp', address: a }, now).verdict).toBe('deny');
  });
});
