import type { AccessEvent } from '../events/access-event';
import { isBlank, parseAccessLine, parseAgentLine, parseAgentLineAt } from './access-line';
import { readLines, type ReadOptions } from './jsonl-reader';

/**
 * Streams an access log (JSONL of access events): valid events go to `onEvent` with their line
 * number; bad lines (invalid JSON, not an access event, over-long) go to `onBad` with the reason,
 * are skipped and counted. Blank lines are ignored. Rejects only when the input cannot be read.
 */
export interface AccessLogStats {
  lines: number;
  bytes: number;
  events: number;
  bad: number;
}

export interface BadLine { line: number; error: string }

export async function readAccessLog(
  input: string,
  onEvent: (ev: AccessEvent, lineNo: number) => void,
  onBad: (bad: BadLine) => void,
  opts: ReadOptions = {},
): Promise<AccessLogStats> {
  let events = 0;
  let bad = 0;
  const r = await readLines(input, {
    lineAt(text, start, end, lineNo) {
      const fast = parseAgentLineAt(text, start, end);
      if (fast !== null) {
        events++;
        onEvent(fast, lineNo);
        return;
      }
      this.line(text.slice(start, end), lineNo);
    },
    line(text, lineNo) {
      const fast = parseAgentLine(text);
      if (fast !== null) {
        events++;
        onEvent(fast, lineNo);
        return;
      }
      if (isBlank(text)) return;
      const p = parseAccessLine(text);
      if (p.ok) {
        events++;
        onEvent(p.event, lineNo);
      } else {
        bad++;
        onBad({ line: lineNo, error: p.error });
      }
    },
    tooLong(lineNo, size) {
      bad++;
      onBad({ line: lineNo, error: `line is ${size} bytes, over the ${opts.maxLineBytes ?? 1 << 20}-byte limit for one event` });
    },
  }, opts);
  return { lines: r.lines, bytes: r.bytes, events, bad };
}

/** Prints bad lines to a sink, the first `limit` in full, then only counts them. */
export function badLineReporter(input: string, write: (s: string) => void, limit = 20): (b: BadLine) => void {
  let n = 0;
  return (b) => {
    n++;
    if (n <= limit) write(`${input}:${b.line}: skipped: ${b.error}\n`);
    else if (n === limit + 1) write(`${input}: more bad lines; only counting them from here\n`);
  };
}
