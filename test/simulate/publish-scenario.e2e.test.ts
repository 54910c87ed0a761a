import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** `warden simulate` publishing new rules versions mid-scenario through the signed local store (own Node process). */
const ROOT = join(__dirname, '../..');

function simulate(args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'engine/cli/main.ts'), 'simulate', ...args], { cwd: ROOT, timeout: 170_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 });
    });
  });
}

type Line = Record<string, unknown>;

describe('warden simulate: publish steps', () => {
  it('switches the agent and the engine to a published version; a publish signed with an untrusted key is refused; the kill switch turns blocking off and on', async () => {
    const r = await simulate(['--scenario', join(__dirname, 'fixtures/publish/scenario.yaml'), '--json']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
    expect(r.code).toBe(0);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', ok: true, unaccounted: 0, problems: [] });

    const policy = lines.filter((l) => l.type === 'policy');
    expect(policy).toHaveLength(4);
    const [good, forged, ksOn, ksOff] = policy as [Line, Line, Line, Line];
    const v1 = good.from as string;
    const v2 = good.to as string;
    expect(v1).toMatch(/^sha256:/);
    expect(v2).not.toBe(v1);
    expect(good).toMatchObject({ action: 'publish', by: 'U0RULESBOT', published: v2, sequence: 2, switched: ['orders-api', 'rules engine'], kept: [], killSwitch: false });
    // the forged publish wrote v1 again, but nobody accepted it
    expect(forged).toMatchObject({ action: 'publish', by: 'U0MALLORY', published: v1, from: v2, to: v2, switched: [] });
    expect(forged.kept).toEqual([
      { who: 'orders-api', reason: 'bad-signature', version: v2 },
      { who: 'rules engine', reason: 'bad-signature', version: v2 },
    ]);

    expect(ksOn).toMatchObject({ action: 'killswitch', by: 'U0SECLEAD1', killSwitch: true, from: v2, to: v2, switched: ['orders-api', 'rules engine'] });
    expect(ksOff).toMatchObject({ action: 'killswitch', by: 'simulate', killSwitch: false, from: v2, to: v2, switched: ['orders-api', 'rules engine'] });

    // the decision flips after the publish and carries the version it was made with
    const decisions = lines.filter((l) => l.type === 'decision').map((l) => [l.verdict, l.rule, l.policyVersion]);
    expect(decisions).toEqual([
      ['deny', 'partner-api-not-yet', v1], ['allow', 'partner-api', v2], ['allow', 'partner-api', v2],
      ['deny', 'legacy-api-retired', v2], ['deny', 'legacy-api-retired', v2],
    ]);
    // and so does the agent: blocked under v1, let through under v2 (and still after the forged publish);
    // a denied call goes through in monitor mode while the kill switch is engaged, and is blocked again after
    const accesses = lines.filter((l) => l.type === 'access').map((l) => [l.target, l.mode, l.blocked]);
    expect(accesses).toEqual([
      ['api.partner.io:443', 'block', true], ['api.partner.io:443', 'block', false], ['api.partner.io:443', 'block', false],
      ['api.legacy.io:443', 'monitor', false], ['api.legacy.io:443', 'block', true],
    ]);
    // the agent's events carry the version the agent decided with
    expect(lines.filter((l) => l.type === 'access').map((l) => l.policyVersion)).toEqual([v1, v2, v2, v2, v2]);
  }, 180_000);
});
