import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { JSON_TYPES } from '../../engine/local/simulate/timeline';

/**
 * The built-in scenario end to end, as `warden simulate --json` runs it: a separate Node process
 * (the agent hooks Node's module loader, http and fetch, which jest's sandbox replaces).
 */
const ROOT = join(__dirname, '../..');

interface Line { type: string; [k: string]: unknown }

let lines: Line[] = [];
let exitCode: number | null = null;
let stderr = '';

beforeAll(async () => {
  const out = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'engine/cli/main.ts'), 'simulate', '--json'], { cwd: ROOT, timeout: 170_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, se) => {
      resolve({ stdout, stderr: se, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 });
    });
  });
  stderr = out.stderr;
  exitCode = out.code;
  lines = out.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
}, 180_000);

const of = (type: string) => lines.filter((l) => l.type === type);
const ends = () => of('workflow.end') as unknown as { workflow: string; function: string | null; status: string; outcome: string | null }[];

describe('warden simulate --json (built-in scenario)', () => {
  it('succeeds and prints only the contract types, the summary last', () => {
    if (exitCode !== 0) throw new Error(`exit ${exitCode}; problems: ${JSON.stringify(lines.at(-1)?.problems)}\n${stderr.slice(0, 2000)}`);
    for (const l of lines) expect(JSON_TYPES).toContain(l.type);
    expect(lines.at(-1)!.type).toBe('summary');
    for (const type of ['access', 'decision', 'workflow.start', 'workflow.state', 'workflow.end', 'action', 'slack.message']) expect(of(type).length).toBeGreaterThan(0);
  });

  it('accounts for every event and restores exactly', () => {
    expect(lines.at(-1)).toMatchObject({ type: 'summary', simulated: true, unaccounted: 0, restoredExactly: true, ok: true, problems: [] });
    const s = lines.at(-1)!;
    expect(s.emitted).toBe(of('access').length);
    expect(s.decided).toBe(new Set(of('decision').map((d) => d.eventId)).size);
    // the audit trail, read back from dynalite: at least every decision and every account change
    const audit = s.audit as { total: number };
    expect(audit.total).toBeGreaterThanOrEqual(of('decision').length + of('action').filter((a) => a.service !== 'sns').length);
  });

  it('blocks the exfiltration, decides deny and quarantines then restores orders-api', () => {
    expect(of('access')).toContainEqual(expect.objectContaining({ function: 'orders-api', target: 'pastebin.com:443', blocked: true }));
    expect(of('decision')).toContainEqual(expect.objectContaining({ function: 'orders-api', verdict: 'deny', rule: 'paste-pastebin', response: 'quarantine' }));
    expect(ends()).toContainEqual(expect.objectContaining({ workflow: 'quarantine', function: 'orders-api', status: 'SUCCEEDED' }));
    expect(ends()).toContainEqual(expect.objectContaining({ workflow: 'restore', function: 'orders-api', status: 'SUCCEEDED' }));
    const q = (lines.at(-1)!.quarantinedRoles as { function: string; restoredExactly: boolean | null; quarantined: { concurrency: number } }[]).find((r) => r.function === 'orders-api')!;
    expect(q).toMatchObject({ restoredExactly: true, quarantined: { concurrency: 0 } });
    expect(of('action')).toContainEqual(expect.objectContaining({ service: 'iam', action: 'putRolePolicy', workflow: 'quarantine', simulated: true }));
  });

  it('refuses the unauthorized click, honours the approval and the exception on the next access', () => {
    const clicks = of('slack.message').filter((m) => m.direction === 'in');
    expect(clicks).toEqual([
      expect.objectContaining({ user: 'U0INTRUDER1', button: 'approve', accepted: false }),
      expect.objectContaining({ user: 'U0APPROVER1', button: 'approve', accepted: true }),
    ]);
    expect(ends()).toContainEqual(expect.objectContaining({ workflow: 'approval', function: 'payments-worker', status: 'SUCCEEDED' }));
    const scans = of('decision').filter((d) => d.function === 'payments-worker' && String((d as { reason?: string }).reason).includes('dynamodb:Scan'));
    expect(scans.map((d) => d.verdict)).toEqual(['unlisted', 'allow']);
    expect(String(scans[1]!.rule)).toMatch(/^exception:/);
  });

  it('publishes the approved exception to the signed store: the agent in block mode lets the next scan through', () => {
    expect(of('workflow.state')).toContainEqual(expect.objectContaining({ workflow: 'approval', state: 'PublishExceptions' }));
    const scans = of('access').filter((a) => a.function === 'payments-worker' && String(a.target).includes('dynamodb:Scan'));
    expect(scans.map((a) => [a.mode, a.agentVerdict, a.blocked])).toEqual([['block', 'unlisted', true], ['block', 'allow', false]]);
  });

  it('escalates image-resizer through every tier to its final action', () => {
    expect(of('decision')).toContainEqual(expect.objectContaining({ function: 'image-resizer', verdict: 'unlisted', response: 'escalate' }));
    expect(ends()).toContainEqual(expect.objectContaining({ workflow: 'escalate', function: 'image-resizer', status: 'SUCCEEDED' }));
    const tiers = of('slack.message').filter((m) => m.direction === 'out' && String(m.text).startsWith('Warden escalation'));
    expect(tiers.length).toBeGreaterThanOrEqual(2);
    expect(ends()).toContainEqual(expect.objectContaining({ workflow: 'quarantine', function: 'image-resizer', status: 'SUCCEEDED' }));
  });
});
