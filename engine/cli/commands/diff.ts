import type { Command } from 'commander';

/**
 * `warden rules diff --input LOG --base DIR_OR_GIT_REF --head DIR [--json]`
 * Replays observed traffic against both rule sets and reports every decision or response change,
 * grouped by function and rule. Exit 1 when previously allowed traffic would be denied or
 * unlisted (a CI gate); exit 2 when the log or the rules cannot be read, or lines were bad.
 */
export function registerDiffCommand(rules: Command): void {
  rules
    .command('diff')
    .description('replay an access log against two rule sets and show what changes; exit 1 if allowed traffic would be blocked')
    .requiredOption('-i, --input <file>', 'access log, JSONL of access events ("-" for stdin)')
    .requiredOption('--base <dirOrRef>', 'the current rules: a directory, or a git ref (main, origin/main, REF:path)')
    .option('--head <dir>', 'the proposed rules directory', 'rules')
    .option('--json', 'print the report as one JSON object', false)
    .action(async (opts: { input: string; base: string; head: string; json: boolean }) => {
      if (opts.input === '-' && process.stdin.isTTY) {
        process.stderr.write('warden rules diff: no input: pass --input access.jsonl, or pipe a log into stdin\n');
        process.exitCode = 2;
        return;
      }
      const { runDiff } = await import('../../diff/run-diff');
      const { loadBaseSide, loadDirSide } = await import('../../diff/sides');
      const r = await runDiff({
        input: opts.input,
        json: opts.json,
        loadBase: () => loadBaseSide(opts.base, opts.head),
        loadHead: () => loadDirSide(opts.head),
        now: Date.now,
        stdout: (s) => process.stdout.write(s),
        stderr: (s) => process.stderr.write(s),
        progress: true,
      });
      process.exitCode = r.exitCode;
    });
}
