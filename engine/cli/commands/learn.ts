import type { Command } from 'commander';

/**
 * `warden learn --input LOG --out DIR [--generalize [--threshold N]] [--dry-run] [--json]`
 * Exit codes: 0 done; 1 a file would have been overwritten (not written); 2 unreadable input or
 * bad log lines (skipped, reported with their line numbers; the files are still written).
 */
export function registerLearnCommand(program: Command): void {
  program
    .command('learn')
    .description('propose least-privilege allow lists from an access log (JSONL); against an existing rules dir, additions only')
    .option('-i, --input <file>', 'access log, JSONL of access events ("-" for stdin)', '-')
    .requiredOption('-o, --out <dir>', 'rules directory to write to (new, or an existing repo: additions go to functions/<name>.learned.yaml)')
    .option('--generalize', 'introduce "*" where enough distinct values share a prefix', false)
    .option('--threshold <n>', 'distinct values needed before --generalize writes a "*"', (v) => Number(v), 3)
    .option('--dry-run', 'print what would be written, write nothing', false)
    .option('--json', 'print a JSON summary on stdout', false)
    .action(async (opts: { input: string; out: string; generalize: boolean; threshold: number; dryRun: boolean; json: boolean }) => {
      if (opts.input === '-' && process.stdin.isTTY) {
        process.stderr.write('warden learn: no input: pass --input access.jsonl, or pipe a log into stdin\n');
        process.exitCode = 2;
        return;
      }
      const { runLearn } = await import('../../learn/run-learn');
      const { loadCompiledRules, checkAllowEntry } = await import('../../learn/policy-port');
      const { UnreadableInputError } = await import('../../stream/errors');
      try {
        const r = await runLearn({
          ...opts,
          loadExisting: loadCompiledRules,
          checkEntry: checkAllowEntry,
          now: Date.now,
          stdout: (s) => process.stdout.write(s),
          stderr: (s) => process.stderr.write(s),
          progress: true,
        });
        process.exitCode = r.exitCode;
      } catch (err) {
        process.stderr.write(`warden learn: ${(err as Error).message}\n`);
        process.exitCode = err instanceof UnreadableInputError ? 2 : 1;
      }
    });
}
