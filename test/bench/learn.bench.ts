/**
 * Learn and diff at scale on a generated log (100 MB with --quick, 1 GB otherwise): events/s and
 * peak RSS. Each command runs in its own child process (bundled with esbuild), so the figures are
 * the command's alone. events/s is per CPU-second of the child (the "one core" figure; the machine
 * is shared), the wall-clock rate is reported next to it.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import type { BenchOptions } from './main';
import { writeAccessLog } from './learn-log';

interface ChildResult { events: number; seconds: number; cpuSeconds: number; maxRssMb: number; bad: number; exitCode?: number; breaking?: number }

export async function bench(opts: BenchOptions): Promise<Record<string, number | string | boolean>> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-learn-bench-'));
  try {
    const size = opts.quick ? 100e6 : 1e9;
    const log = join(dir, 'access.jsonl');
    const gen = await writeAccessLog(log, size);
    opts.log(`  generated ${(statSync(log).size / 1e6).toFixed(0)} MB, ${gen.lines.toLocaleString('en-US')} events`);

    const child = join(dir, 'learn-child.js');
    buildSync({ entryPoints: [join(__dirname, 'learn-child.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: child, logLevel: 'warning' });
    const run = (args: string[]): ChildResult => {
      const load = loadavg()[0]!.toFixed(1);
      const r = JSON.parse(execFileSync(process.execPath, [child, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 })) as ChildResult;
      opts.log(`  ${args[0]}: ${r.events.toLocaleString('en-US')} events, ${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU, peak RSS ${r.maxRssMb.toFixed(0)} MB (load average ${load})`);
      return r;
    };

    const floor = run(['parse', log]);
    const base = join(dir, 'base');
    const learn = run(['learn', log, base]);
    if (learn.events !== gen.lines || learn.bad !== 0) throw new Error(`learn read ${learn.events} events (${learn.bad} bad), expected ${gen.lines}`);

    // head: the learned rules with every host entry of one function in ten removed (a breaking change)
    const head = join(dir, 'head');
    cpSync(base, head, { recursive: true });
    const files = readdirSync(join(head, 'functions')).sort();
    files.forEach((f, i) => {
      if (i % 10 !== 0) return;
      const p = join(head, 'functions', f);
      writeFileSync(p, readFileSync(p, 'utf8').split('\n').filter((l) => !l.startsWith('  - host:')).join('\n'));
    });
    const diff = run(['diff', log, base, head]);
    if (diff.events !== gen.lines || diff.exitCode !== 1 || !diff.breaking) throw new Error(`diff: ${JSON.stringify(diff)}`);

    return {
      'learn.log_mb': Math.round(gen.bytes / 1e6),
      // reference ceiling on this machine at this moment: reading lines + JSON.parse and nothing else
      'learn.json_parse_only_events_per_s': Math.round(floor.events / floor.cpuSeconds),
      'learn.events_per_s': Math.round(learn.events / learn.cpuSeconds),
      'learn.events_per_s_wall': Math.round(learn.events / learn.seconds),
      'learn.peak_rss_mb': Math.round(learn.maxRssMb),
      'diff.events_per_s': Math.round(diff.events / diff.cpuSeconds),
      'diff.events_per_s_wall': Math.round(diff.events / diff.seconds),
      'diff.peak_rss_mb': Math.round(diff.maxRssMb),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
