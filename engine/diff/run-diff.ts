import { badLineReporter, readAccessLog, type AccessLogStats } from '../stream/access-log';
import { UnreadableInputError } from '../stream/errors';
import { formatDiff, Replay, type DiffReport, type ReplaySide } from './replay';

/**
 * `warden rules diff` without the command-line parsing. Exit codes (the CI gate):
 * 0 no change blocks previously allowed traffic; 1 some change would (deny or unlisted where base
 * allowed); 2 the log or a rule set could not be read, or the log had bad lines and nothing broke
 * (an incomplete replay does not pass the gate).
 */
export interface DiffRunOptions {
  input: string;
  loadBase: () => Promise<ReplaySide>;
  loadHead: () => Promise<ReplaySide>;
  json?: boolean;
  now: () => number;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  progress?: boolean;
}

export interface DiffRunResult { exitCode: 0 | 1 | 2; report: DiffReport | null; stats: AccessLogStats | null }

export async function runDiff(o: DiffRunOptions): Promise<DiffRunResult> {
  let base: ReplaySide;
  let head: ReplaySide;
  try {
    [base, head] = await Promise.all([o.loadBase(), o.loadHead()]);
  } catch (err) {
    o.stderr(`warden rules diff: ${(err as Error).message}\n`);
    return { exitCode: 2, report: null, stats: null };
  }
  const replay = new Replay(base, head, o.now());
  let stats: AccessLogStats;
  try {
    stats = await readAccessLog(o.input, (ev, line) => replay.add(ev, line), badLineReporter(o.input, o.stderr), {
      progress: o.progress ?? false, label: 'diff', now: o.now,
    });
  } catch (err) {
    if (!(err instanceof UnreadableInputError)) throw err;
    o.stderr(`warden rules diff: ${err.message}\n`);
    return { exitCode: 2, report: null, stats: null };
  }
  const report = await replay.report();
  if (o.json) o.stdout(JSON.stringify({ ...report, lines: stats.lines, badLines: stats.bad }) + '\n');
  else o.stdout(formatDiff(report, { badLines: stats.bad }));
  if (stats.bad) o.stderr(`warden rules diff: ${stats.bad} bad lines skipped (see above); the replay is incomplete\n`);
  const exitCode = report.breaking.changes > 0 ? 1 : stats.bad > 0 ? 2 : 0;
  return { exitCode, report, stats };
}
