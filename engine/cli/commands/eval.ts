import type { Command } from 'commander';
import type { Readable, Writable } from 'node:stream';

export interface EvalCliOptions {
  rules: string;
  input?: string;
  table?: boolean;
  now?: string;
}

export interface EvalIo {
  stdin: Readable;
  stdout: Writable;
  err(line: string): void;
  now(): number;
}

/**
 * `warden eval --rules DIR|BUNDLE [--input FILE] [--table] [--now ISO]`.
 * Exit 0: every line decided; 2: some line was bad (it got deny + error); 1: the rules do not load.
 */
export async function runEvalCommand(opts: EvalCliOptions, io: EvalIo): Promise<number> {
  const [{ loadRulesDir, compilePolicy, loadBundleFile }, { createResponseSelector }, { runEval }, { createUlidFactory }, fs] = await Promise.all([
    import('../../policy'), import('../../responses/select'), import('../../evaluate/eval-stream'), import('../../evaluate/ids'), import('node:fs'),
  ]);
  let now = io.now();
  if (opts.now !== undefined) {
    now = Date.parse(opts.now);
    if (Number.isNaN(now)) { io.err(`warden: --now "${opts.now}" is not an ISO date or timestamp`); return 1; }
  }
  let policy;
  try {
    const st = fs.statSync(opts.rules, { throwIfNoEntry: false });
    policy = st?.isFile() ? loadBundleFile(opts.rules) : compilePolicy(await loadRulesDir(opts.rules));
  } catch (err) {
    const e = err as { name?: string; issues?: { file: string; line: number; path: string; message: string }[]; message?: string };
    if (e.issues) for (const i of e.issues) io.err(`${i.file}:${i.line}: error: ${i.path ? `${i.path}: ` : ''}${i.message}`);
    else io.err(`warden: ${e.message ?? String(err)}`);
    io.err('warden: cannot load the rules; nothing was evaluated');
    return 1;
  }
  let input: Readable = io.stdin;
  if (opts.input !== undefined && opts.input !== '-') {
    const st = fs.statSync(opts.input, { throwIfNoEntry: false });
    if (!st || !st.isFile()) { io.err(`warden: --input ${opts.input}: no such file`); return 1; }
    input = fs.createReadStream(opts.input, { highWaterMark: 1 << 20 });
  }
  const summary = await runEval({
    policy, responses: createResponseSelector(policy.responses), input, output: io.stdout, now, newId: createUlidFactory(() => now), table: opts.table === true,
  });
  const v = summary.verdicts;
  io.err(`${summary.lines} events: ${v.allow} allow, ${v.deny} deny, ${v.unlisted} unlisted${summary.bad ? `, ${summary.bad} bad line${summary.bad === 1 ? '' : 's'}` : ''} (policy ${policy.policyVersion})`);
  return summary.bad > 0 ? 2 : 0;
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('decide JSONL access events (stdin by default): one JSONL decision per input line, in order; exit 2 if any line was bad')
    .requiredOption('--rules <dir>', 'rules directory (or a bundle file from "warden rules bundle")')
    .option('--input <file>', 'JSONL access events ("-" or omitted: stdin)')
    .option('--table', 'print a readable table instead of JSONL')
    .option('--now <iso>', 'decide as of this time (entry expiry); default: now')
    .action(async (opts: EvalCliOptions) => {
      process.exitCode = await runEvalCommand(opts, { stdin: process.stdin, stdout: process.stdout, err: (l) => process.stderr.write(`${l}\n`), now: () => Date.now() });
    });
}
