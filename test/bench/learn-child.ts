/**
 * Child process of test/bench/learn.bench.ts: runs learn or diff over one log and prints
 * {events, seconds, cpuSeconds, maxRssMb} as JSON, so peak RSS is that of the command alone.
 *   learn-child.js learn LOG OUTDIR
 *   learn-child.js diff LOG BASEDIR HEADDIR
 *   learn-child.js parse LOG      (reference: read lines + JSON.parse only, no validation, no work)
 */
import { runLearn } from '../../engine/learn/run-learn';
import { checkAllowEntry } from '../../engine/learn/policy-port';
import { runDiff } from '../../engine/diff/run-diff';
import { loadDirSide } from '../../engine/diff/sides';
import { readLines } from '../../engine/stream/jsonl-reader';

async function main(): Promise<void> {
  const [cmd, input, a, b] = process.argv.slice(2) as [string, string, string, string | undefined];
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let events: number;
  let extra: Record<string, unknown>;
  if (cmd === 'parse') {
    let n = 0;
    let sink = 0;
    await readLines(input, { line(text) { if (text.length) { sink += (JSON.parse(text) as { count?: number }).count ?? 0; n++; } } });
    events = n;
    extra = { bad: 0, sink };
  } else if (cmd === 'learn') {
    const r = await runLearn({
      input, out: a, generalize: false,
      loadExisting: () => Promise.reject(new Error('the bench learns into an empty directory')),
      checkEntry: checkAllowEntry, now: Date.now, stdout: () => {}, stderr: () => {},
    });
    events = r.stats.events;
    extra = { bad: r.stats.bad, files: r.written.length };
  } else {
    const r = await runDiff({
      input, loadBase: () => loadDirSide(a), loadHead: () => loadDirSide(b!), json: true, now: Date.now,
      stdout: () => {}, stderr: (s) => process.stderr.write(s),
    });
    events = r.stats?.events ?? 0;
    extra = { bad: r.stats?.bad ?? -1, changes: r.report?.changes.length ?? -1, breaking: r.report?.breaking.changes ?? -1, exitCode: r.exitCode };
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  process.stdout.write(JSON.stringify({
    events, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMb: process.resourceUsage().maxRSS / 1024, ...extra,
  }) + '\n');
}

void main();
