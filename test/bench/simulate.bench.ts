/**
 * `npm start`'s scenario, timed as a user runs it: `warden simulate` (built-in scenario) in its own
 * process, from spawn to exit, as `npm start` launches it (tsx over the sources). The run must
 * succeed (exit 0, nothing unaccounted, restored exactly) for the figure to count.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { BenchOptions } from './main';

const ROOT = join(__dirname, '../..');

interface Run { seconds: number; code: number | null; summary: Record<string, unknown> | undefined; stderr: string }

function runOnce(): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'engine/cli/main.ts'), 'simulate', '--json'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
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
  const times: number[] = [];
  let last: Run | undefined;
  for (let i = 0; i < runs; i++) {
    last = await runOnce();
    if (last.code !== 0 || last.summary?.type !== 'summary') {
      throw new Error(`warden simulate exited ${last.code}; problems: ${JSON.stringify(last.summary?.problems ?? null)}; stderr: ${last.stderr.slice(0, 500)}`);
    }
    times.push(last.seconds);
    opts.log(`  run ${i + 1}: ${last.seconds.toFixed(1)} s (in-process ${((last.summary.wallMs as number) / 1000).toFixed(1)} s, simulated ${String(last.summary.simulatedDuration)})`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return {
    'simulate.default_s': +median.toFixed(2),
    'simulate.in_process_s': +(((last!.summary!.wallMs as number) ?? 0) / 1000).toFixed(2),
    'simulate.setup_s': +(((last!.summary!.timings as { setupMs: number }).setupMs ?? 0) / 1000).toFixed(2),
    'simulate.synth_s': +(((last!.summary!.timings as { synthMs: number }).synthMs ?? 0) / 1000).toFixed(2),
    'simulate.timeline_s': +(((last!.summary!.timings as { runMs: number }).runMs ?? 0) / 1000).toFixed(2),
    'simulate.events': last!.summary!.emitted as number,
    'simulate.unaccounted': last!.summary!.unaccounted as number,
    'simulate.restored_exactly': last!.summary!.restoredExactly as boolean,
  };
}
