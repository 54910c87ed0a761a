/**
 * `npm start`'s scenario, timed as a user runs it: `warden simulate` (built-in scenario) in its own
 * process, from spawn to exit, as `npm start` launches it (tsx over the sources). The run must
 * succeed (exit 0, nothing unaccounted, restored exactly) for the figure to count.
 * `simulate.default_s` is the cold run (template synthesized, as on a fresh clone: --no-cache);
 * `simulate.cached_s` the median of the following runs (template reused: sources unchanged).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { BenchOptions } from './main';

const ROOT = join(__dirname, '../..');

interface Run { seconds: number; code: number | null; summary: Record<string, unknown> | undefined; stderr: string }

function runOnce(cold: boolean): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', join(ROOT, 'engine/cli/main.ts'), 'simulate', '--json', ...(cold ? ['--no-cache'] : [])];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const last = stdout.trim().split('\n').at(-1);
      let summary: Record<string, unknown> | undefined;
      try {
        summary = last ? (JSON.parse(last) as Record<string, unknown>) : undefined;
      } catch {
        summary = undefined;
      }
      resolve({ seconds, code, summary, stderr });
    });
  });
}

export async function bench(opts: BenchOptions): Promise<Record<string, number | string | boolean>> {
  const runs = opts.quick ? 1 : 3;
  const cached: number[] = [];
  let cold: Run | undefined;
  let last: Run | undefined;
  for (let i = 0; i < runs; i++) {
    last = await runOnce(i === 0);
    if (last.code !== 0 || last.summary?.type !== 'summary') {
      throw new Error(`warden simulate exited ${last.code}; problems: ${JSON.stringify(last.summary?.problems ?? null)}; stderr: ${last.stderr.slice(0, 500)}`);
    }
    if (i === 0) cold = last;
    else cached.push(last.seconds);
    const t = last.summary.timings as { setupMs: number; synthMs: number; runMs: number };
    opts.log(`  run ${i + 1} (${i === 0 ? 'cold' : 'cached template'}): ${last.seconds.toFixed(1)} s (set-up ${(t.setupMs / 1000).toFixed(1)} s incl. synth ${(t.synthMs / 1000).toFixed(1)} s, timeline ${(t.runMs / 1000).toFixed(1)} s; simulated ${String(last.summary.simulatedDuration)})`);
  }
  const s = cold!.summary!;
  const t = s.timings as { setupMs: number; synthMs: number; runMs: number };
  const sorted = [...cached].sort((a, b) => a - b);
  return {
    'simulate.default_s': +cold!.seconds.toFixed(2),
    ...(sorted.length ? { 'simulate.cached_s': +sorted[Math.floor(sorted.length / 2)]!.toFixed(2) } : {}),
    'simulate.setup_s': +(t.setupMs / 1000).toFixed(2),
    'simulate.synth_s': +(t.synthMs / 1000).toFixed(2),
    'simulate.timeline_s': +(t.runMs / 1000).toFixed(2),
    'simulate.events': s.emitted as number,
    'simulate.unaccounted': s.unaccounted as number,
    'simulate.restored_exactly': s.restoredExactly as boolean,
  };
}
