/**
 * Learn and diff at scale: events/s and learn's peak RSS on a generated log (100 MB with --quick,
 * 1 GB otherwise). Learn runs in a child process bundled with esbuild, so its RSS is its own.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { BenchOptions } from './main';
import { writeAccessLog } from './learn-log';

export async function bench(opts: BenchOptions): Promise<Record<string, number | string | boolean>> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-learn-bench-'));
  try {
    const size = opts.quick ? 100e6 : 1e9;
    const log = join(dir, 'access.jsonl');
    const gen = await writeAccessLog(log, size);
    opts.log(`  generated ${(statSync(log).size / 1e6).toFixed(0)} MB, ${gen.lines.toLocaleString('en-US')} events`);

    const child = join(dir, 'learn-child.js');
    buildSync({ entryPoints: [join(__dirname, 'learn-child.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: child, logLevel: 'warning' });
    const learn = JSON.parse(execFileSync(process.execPath, [child, log], { encoding: 'utf8', maxBuffer: 1 << 20 })) as
      { events: number; seconds: number; maxRssMb: number; bad: number };
    if (learn.events !== gen.lines || learn.bad !== 0) throw new Error(`learn read ${learn.events} events (${learn.bad} bad), expected ${gen.lines}`);
    const result: Record<string, number | string | boolean> = {
      'learn.log_mb': Math.round(gen.bytes / 1e6),
      'learn.events_per_s': Math.round(learn.events / learn.seconds),
      'learn.peak_rss_mb': Math.round(learn.maxRssMb),
    };
    opts.log(`  learn: ${result['learn.events_per_s']} events/s, peak RSS ${result['learn.peak_rss_mb']} MB`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
