import { execFileSync, spawnSync } from 'node:child_process';
import { runEvalCommand } from '../../engine/cli/commands/eval';
import { DecisionSchema } from '../../engine/events/decision-event';
import { evalIo } from './helpers';

const ev = (id: string, name: string, access: object) => JSON.stringify({ id, time: '2026-11-23T18:00:00Z', function: { name }, access });

describe('warden eval', () => {
  it('one decision per line, in order; bad lines get deny + error and exit 2', async () => {
    const input = [
      ev('1', 'orders-api', { kind: 'http', host: 'api.stripe.com', port: 443 }),
      '{not json',
      ev('3', 'orders-api', { kind: 'http', host: 'pastebin.com' }),
      '',
      '{"id":"p","time":"2026-11-23T00:00:00Z","function":{"name":"f","tags":{}},"access":{"kind":"http","host":"a.com"},"__proto__":{"polluted":1}}',
      JSON.stringify({ id: '6', function: { name: 'x' } }),
      `{"id":"big","pad":"${'x'.repeat(1024 * 1024)}"}`,
      ev('8', 'payments-worker', { kind: 'aws', service: 'dynamodb', action: 'GetItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/refunds' }),
    ].join('\n') + '\n';
    const t = evalIo(input);
    expect(await runEvalCommand({ rules: 'rules' }, t.io)).toBe(2);
    const out = t.lines().map((l) => DecisionSchema.parse(JSON.parse(l)));
    expect(out.map((d) => [d.id, d.verdict, d.rule, d.response])).toEqual([
      ['1', 'allow', 'stripe-api', 'none'],
      [null, 'deny', 'warden:invalid-event', 'escalate'],
      ['3', 'deny', 'paste-pastebin', 'quarantine'],
      ['p', 'deny', 'warden:invalid-event', 'escalate'],
      ['6', 'deny', 'warden:invalid-event', 'escalate'],
      [null, 'deny', 'warden:invalid-event', 'escalate'],
      ['8', 'unlisted', null, 'approve'],
    ]);
    expect(out[1]!.error).toMatch(/^line 2: not valid JSON/);
    expect(out[3]!.error).toMatch(/line 5: .*__proto__/);
    expect(out[4]!.error).toMatch(/line 6: not a valid access event/);
    expect(out[5]!.error).toMatch(/line 7 is \d+ bytes, over the 1048576-byte limit/);
    expect(Object.keys(JSON.parse(t.lines()[0]!))).toEqual(['id', 'verdict', 'rule', 'severity', 'response', 'policyVersion']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(t.stderr.at(-1)).toMatch(/7 events: 1 allow, 5 deny, 1 unlisted, 4 bad lines/);
  });
  it('exit 0 when every line is good; reads a bundle too', async () => {
    const t = evalIo(ev('1', 'image-resizer', { kind: 'http', host: 'cdn-metrics.example.net' }) + '\n');
    expect(await runEvalCommand({ rules: 'rules' }, t.io)).toBe(0);
    expect(JSON.parse(t.lines()[0]!)).toMatchObject({ verdict: 'unlisted', response: 'escalate' });
  });
  it('exit 1 when the rules do not load', async () => {
    const t = evalIo('');
    expect(await runEvalCommand({ rules: '/nonexistent' }, t.io)).toBe(1);
    expect(t.stderr.join('\n')).toMatch(/no such rules directory/);
  });
  it('runs as a CLI: --table over the shipped examples, and a bundle as --rules', () => {
    const r = spawnSync('npx', ['tsx', 'engine/cli/main.ts', 'eval', '--rules', 'rules', '--input', 'rules/examples/events.jsonl', '--table'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/payments-worker +dynamodb:GetItem .* unlisted +- +medium +approve/);
    expect(r.stdout).toMatch(/image-resizer +http cdn-metrics\.example\.net:443 +unlisted .* escalate/);
    expect(r.stdout).toMatch(/orders-api +http pastebin\.com:443 +deny +paste-pastebin +critical +quarantine/);
    const out = execFileSync('npx', ['tsx', 'engine/cli/main.ts', 'rules', 'bundle', 'rules', '--out', '/tmp/warden-test-bundle.json'], { encoding: 'utf8' });
    expect(out).toMatch(/wrote/);
    const r2 = spawnSync('npx', ['tsx', 'engine/cli/main.ts', 'eval', '--rules', '/tmp/warden-test-bundle.json', '--input', 'rules/examples/events.jsonl'], { encoding: 'utf8' });
    expect(r2.status).toBe(0);
    expect(r2.stdout.trim().split('\n')).toHaveLength(8);
  });
});
