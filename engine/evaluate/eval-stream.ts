import type { Readable, Writable } from 'node:stream';
import type { CompiledPolicy } from '../policy/types';
import type { SyncResponseSelector } from '../responses/select';
import { describeAccess, evaluateEvent, evaluateEventSync, invalidDecision, type Evaluation } from './evaluate';
import { readLinesFrom } from './lines';

/**
 * `warden eval`: JSONL access events in, one JSONL decision out per input line, in order.
 * A bad line (invalid JSON, schema error, prototype-pollution key, longer than 1 MiB) is
 * decided `deny` with an `error`. Blank lines are not events and produce no output.
 */
export const MAX_EVAL_LINE_BYTES = 1024 * 1024;

export interface EvalOptions {
  policy: CompiledPolicy;
  responses: SyncResponseSelector;
  input: Readable;
  output: Writable;
  now: number;
  newId(): string;
  table?: boolean;
  maxLineBytes?: number;
}

export interface EvalSummary { lines: number; bad: number; verdicts: Record<'allow' | 'deny' | 'unlisted', number> }

function write(out: Writable, s: string): Promise<void> | void {
  if (!out.write(s)) return new Promise((resolve) => out.once('drain', () => resolve()));
}

const COLS = [['#', 5], ['function', 18], ['access', 58], ['verdict', 9], ['rule', 24], ['severity', 9], ['response', 10]] as const;
const cell = (s: string, w: number) => (s.length > w ? `${s.slice(0, w - 1)}…` : s.padEnd(w));
const row = (vals: string[]) => vals.map((v, i) => cell(v, COLS[i]![1])).join(' ').trimEnd() + '\n';

function tableRow(lineNo: number, e: Evaluation): string {
  const d = e.decision;
  const access = e.detail ? describeAccess(e.detail.access) : `error: ${d.error ?? ''}`;
  return row([String(lineNo), e.detail?.function.name ?? '-', access, d.verdict, d.rule ?? '-', d.severity, d.response]);
}

export async function runEval(o: EvalOptions): Promise<EvalSummary> {
  const summary: EvalSummary = { lines: 0, bad: 0, verdicts: { allow: 0, deny: 0, unlisted: 0 } };
  const ctx = { policy: o.policy, responses: o.responses, now: o.now, newId: o.newId };
  if (o.table) await write(o.output, row(COLS.map((c) => c[0])) + row(COLS.map((c) => '-'.repeat(c[1]))));
  for await (const line of readLinesFrom(o.input, o.maxLineBytes ?? MAX_EVAL_LINE_BYTES)) {
    let ev: Evaluation;
    if ('tooLong' in line) {
      ev = { decision: invalidDecision(null, `line ${line.lineNo} is ${line.tooLong} bytes, over the ${o.maxLineBytes ?? MAX_EVAL_LINE_BYTES}-byte limit`, o.policy.policyVersion) };
    } else {
      if (line.text.trim().length === 0) continue;
      let raw: unknown;
      let parseError: string | null = null;
      try {
        raw = JSON.parse(line.text);
      } catch (err) {
        parseError = `line ${line.lineNo}: not valid JSON (${(err as Error).message})`;
      }
      if (parseError !== null) ev = { decision: invalidDecision(null, parseError, o.policy.policyVersion) };
      else ev = evaluateEventSync(raw, ctx) ?? (await evaluateEvent(raw, ctx));
      if (ev.decision.error && !ev.decision.error.startsWith('line ')) ev.decision.error = `line ${line.lineNo}: ${ev.decision.error}`;
    }
    summary.lines++;
    if (ev.decision.error) summary.bad++;
    summary.verdicts[ev.decision.verdict]++;
    const w = o.table ? write(o.output, tableRow(line.lineNo, ev)) : write(o.output, JSON.stringify(ev.decision) + '\n');
    if (w) await w;
  }
  return summary;
}
