/**
 * Child process of test/bench/learn.bench.ts: runs learn (or a bare read) over one log and prints
 * {events, seconds, maxRssMb} as JSON, so peak RSS is that of learn alone, not of the bench runner.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLearn } from '../../engine/learn/run-learn';
import { checkAllowEntry } from '../../engine/learn/policy-port';

async function main(): Promise<void> {
  const [input, generalize] = process.argv.slice(2) as [string, string | undefined];
  const out = mkdtempSync(join(tmpdir(), 'warden-learn-bench-out-'));
  const t0 = process.hrtime.bigint();
  const r = await runLearn({
    input, out, generalize: generalize === 'generalize',
    loadExisting: () => Promise.reject(new Error('no existing rules in the bench')),
    checkEntry: checkAllowEntry,
    now: Date.now, stdout: () => {}, stderr: () => {},
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(out, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ events: r.stats.events, bad: r.stats.bad, files: r.written.length, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

void main();
