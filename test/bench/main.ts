/**
 * `npm run bench [-- --json] [-- --quick]`: runs every `test/bench/*.bench.ts` part in one process,
 * one after another, and prints a readable table; with --json the last line is one JSON object
 * whose keys (e.g. `decide.warden_ops_per_s`) are the contract in DESIGN.md.
 * A part exports `bench(opts): Promise<Record<string, number | string | boolean>>` with prefixed keys.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchOptions { quick: boolean; log: (line: string) => void }
type Part = { bench: (o: BenchOptions) => Promise<Record<string, number | string | boolean>> };

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const quick = args.includes('--quick');
  const only = args.filter((a) => !a.startsWith('--'));
  const log = (line: string) => { if (json) process.stderr.write(line + '\n'); else process.stdout.write(line + '\n'); };
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.bench.ts')).sort()
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)));
  const result: Record<string, number | string | boolean> = {
    'machine.cpus': (await import('node:os')).cpus().length,
    'machine.node': process.version,
  };
  let failed = false;
  for (const f of files) {
    log(`\n== ${f.replace('.bench.ts', '')} ==`);
    try {
      const part = (await import(join(__dirname, f))) as Part;
      Object.assign(result, await part.bench({ quick, log }));
    } catch (err) {
      failed = true;
      log(`  FAILED: ${(err as Error).stack ?? String(err)}`);
      result[`${f.replace('.bench.ts', '')}.error`] = String((err as Error).message ?? err);
    }
  }
  log('');
  for (const [k, v] of Object.entries(result)) log(`${k.padEnd(44)} ${typeof v === 'number' ? +v.toFixed(3) : v}`);
  if (json) process.stdout.write(JSON.stringify(result) + '\n');
  if (failed) process.exitCode = 1;
}

void main();
