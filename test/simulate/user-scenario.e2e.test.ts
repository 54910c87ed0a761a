import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** `warden simulate --scenario FILE` through the CLI, in its own Node process (see default-scenario.e2e.test.ts). */
const ROOT = join(__dirname, '../..');

function simulate(args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'engine/cli/main.ts'), 'simulate', ...args], { cwd: ROOT, timeout: 170_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 });
    });
  });
}

describe('warden simulate --scenario', () => {
  it('rejects an invalid scenario with exit 2 and one line per mistake', async () => {
    const r = await simulate(['--scenario', join(__dirname, 'fixtures/bad-scenario/scenario.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('is not a valid Warden scenario:');
    expect(r.stderr).toContain('  - functions.orders-api.concurrency: Too small: expected number to be >=0');
    expect(r.stderr).toContain('  - timeline[0].at: "5 minutes" is not a duration; write e.g. "0", "90s", "5m", "1h30m" or "2d"');
  }, 60_000);

  it('runs a user handler with the real agent, and fails (exit 1) on an unmet expectation only', async () => {
    const r = await simulate(['--scenario', join(__dirname, 'fixtures/user-scenario/scenario.yaml'), '--json']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.at(-1)!;
    expect(r.code).toBe(1);
    expect(summary).toMatchObject({ type: 'summary', ok: false, unaccounted: 0, emitted: 3, problems: ['expected the restore workflow for orders-api to end SUCCEEDED, got no run'] });
    // the handler's plain https, AWS SDK and fetch calls, seen by the agent as in Lambda (host and port 443 kept)
    const accesses = lines.filter((l) => l.type === 'access').map((l) => [l.target, l.blocked]);
    expect(accesses).toEqual(expect.arrayContaining([
      ['dynamodb:PutItem arn:aws:dynamodb:us-east-1:123456789012:table/orders', false],
      ['api.stripe.com:443', false],
      ['ghostbin.com:443', true],
    ]));
    expect(lines).toContainEqual(expect.objectContaining({ type: 'workflow.end', workflow: 'quarantine', function: 'orders-api', status: 'SUCCEEDED' }));
    // quarantined: reserved concurrency 0, so the second invocation never ran (no new accesses)
    expect(lines.filter((l) => l.type === 'access')).toHaveLength(3);
  }, 180_000);

  it('denies an approval, which escalates, and an acknowledgement ends the escalation', async () => {
    const r = await simulate(['--scenario', join(__dirname, 'fixtures/deny-and-ack/scenario.yaml'), '--json']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(r.code).toBe(0);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', ok: true, unaccounted: 0 });
    const clicks = lines.filter((l) => l.type === 'slack.message' && l.direction === 'in').map((l) => [l.user, l.button, l.accepted]);
    expect(clicks).toEqual([['U0APPROVER2', 'deny', true], ['U0ONCALL1', 'acknowledge', true]]);
    const ends = lines.filter((l) => l.type === 'workflow.end').map((l) => [l.workflow, l.status, l.outcome]);
    expect(ends).toEqual([
      ['approval', 'SUCCEEDED', expect.stringMatching(/Escalation/)],
      ['escalate', 'SUCCEEDED', expect.stringMatching(/Acknowledged/)],
    ]);
  }, 180_000);
});
