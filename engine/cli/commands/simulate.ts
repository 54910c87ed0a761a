import type { Command } from 'commander';

/**
 * `warden simulate [--scenario FILE] [--json] [--interactive]`: a whole incident end to end in
 * this process (see engine/local/simulate/README.md). Exit code 0 when everything in the run went
 * as it should, 1 when anything went wrong (the report says what), 2 for an invalid scenario.
 */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run a whole incident locally, end to end, against a SIMULATED account (built-in scenario by default)')
    .option('--scenario <file>', 'a scenario YAML file (format: engine/local/simulate/README.md)')
    .option('--rules <dir>', "rules directory (default: the scenario's `rules`, else the shipped rules/)")
    .option('--json', 'one JSON object per line (access, decision, workflow.*, action, slack.message, summary)')
    .option('--interactive', 'ask in the terminal who clicks what on approval requests')
    .option('--no-color', 'plain output even on a terminal')
    .option('--no-cache', 'synthesize the stack even when the cached template matches the current sources and rules')
    .action(async (opts: { scenario?: string; rules?: string; json?: boolean; interactive?: boolean; color?: boolean; cache?: boolean }) => {
      // the SDK's notice about its future Node support would interleave with the timeline; it says nothing about the run
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const { runSimulation } = await import('../../local/simulate/simulate');
      const { ScenarioError } = await import('../../local/simulate/errors');
      // `warden simulate --json | head` closes the pipe early: the run still ends cleanly
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') process.stderr.write(`warden simulate: cannot write the output: ${err.message}\n`);
      });
      let ask: ((q: string) => Promise<string>) | undefined;
      let closeAsk = () => undefined as void;
      if (opts.interactive) {
        if (!process.stdin.isTTY) {
          process.stderr.write('warden simulate: --interactive asks for approvals in a terminal, but stdin is not one; run it in a terminal, or script the clicks in a scenario (click: …)\n');
          process.exitCode = 2;
          return;
        }
        const readline = await import('node:readline/promises');
        // prompts go to stderr so that --json output stays one object per line
        const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
        ask = (q) => rl.question(q);
        closeAsk = () => rl.close();
      }
      try {
        const summary = await runSimulation({
          ask,
          scenarioFile: opts.scenario,
          rulesDir: opts.rules,
          json: opts.json === true,
          interactive: opts.interactive === true,
          out: process.stdout,
          err: process.stderr,
          color: opts.color === false ? false : undefined,
          noCache: opts.cache === false,
        });
        process.exitCode = summary.ok ? 0 : 1;
      } catch (err) {
        process.stderr.write(`warden simulate: ${(err as Error).message}\n`);
        process.exitCode = err instanceof ScenarioError ? 2 : 1;
      } finally {
        closeAsk();
      }
    });
}
