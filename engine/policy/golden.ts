import type { Decision } from '../events/decision-event';
import { evaluateEvent } from '../evaluate/evaluate';
import { createResponseSelector } from '../responses/select';
import type { WardenPolicy } from './compile';
import type { RulesRepo } from './loader';

/**
 * `warden rules test`: runs the golden cases of `tests/*.yaml` against the compiled policy and
 * its response rules. A case names an event (id and time may be omitted) and the decision
 * expected for it; only the keys given in `expect` are compared.
 */
export interface GoldenResult {
  file: string;
  line: number;
  name: string;
  ok: boolean;
  /** `key: expected X, got Y` lines */
  diff: string[];
  actual: Decision;
}

export async function runGoldenTests(repo: RulesRepo, policy: WardenPolicy, defaultNow: number): Promise<GoldenResult[]> {
  const responses = createResponseSelector(policy.responses);
  const results: GoldenResult[] = [];
  let seq = 0;
  for (const t of repo.tests) {
    for (const [i, c] of t.data.cases.entries()) {
      const ev: Record<string, unknown> = { ...c.event };
      ev.id ??= `golden-${i + 1}`;
      const now = c.now !== undefined ? Date.parse(c.now) : typeof ev.time === 'string' && !Number.isNaN(Date.parse(ev.time)) ? Date.parse(ev.time) : defaultNow;
      ev.time ??= new Date(now).toISOString();
      const { decision } = await evaluateEvent(ev, { policy, responses, now, newId: () => `golden-decision-${++seq}` });
      const diff: string[] = [];
      for (const key of ['verdict', 'rule', 'severity', 'response'] as const) {
        if (!(key in c.expect)) continue;
        const want = c.expect[key] ?? null;
        if (want !== decision[key]) diff.push(`${key}: expected ${JSON.stringify(want)}, got ${JSON.stringify(decision[key])}`);
      }
      if (decision.error) diff.push(`error: ${decision.error}`);
      results.push({ file: t.file, line: t.lines.cases[i] ?? 1, name: c.name, ok: diff.length === 0, diff, actual: decision });
    }
  }
  return results;
}
