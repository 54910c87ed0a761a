import { Engine, type RuleProperties, type TopLevelCondition } from 'json-rules-engine';
import type { ResponseAction, Severity } from '../events/decision-event';
import { SEVERITIES } from '../events/decision-event';
import { globMatch } from '../policy/glob';
import { ResponsesConfigSchema, type ResponsesConfig, type ResponsesConfigInput } from '../policy/schema';
import type { ResponseFacts, ResponseSelector } from '../policy/types';

/**
 * Picks the response to a decision with json-rules-engine over the decision facts (verdict,
 * severity, service, action, functionName, tags, mode), from `rules/responses.yaml`.
 * The highest-priority matching rule wins (ties: the rule listed first). With no match the
 * defaults of DESIGN.md apply. Results are memoized by the fact tuple: a stream of events has
 * few distinct tuples, so the engine stays fast.
 */
export class ResponseSelectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResponseSelectionError';
  }
}

export interface SyncResponseSelector extends ResponseSelector {
  /** the memoized answer for these facts, if already computed (lets callers stay synchronous). */
  selectCached(facts: ResponseFacts): ResponseAction | undefined;
  /** which rule chose the response for these facts (`default` when none matched); for explanations. */
  explain(facts: ResponseFacts): Promise<{ response: ResponseAction; rule: string }>;
}

/** DESIGN.md defaults: allow → none; unlisted → approve; deny critical → quarantine; other deny → escalate. */
export function defaultResponse(facts: Pick<ResponseFacts, 'verdict' | 'severity'>): ResponseAction {
  if (facts.verdict === 'allow') return 'none';
  if (facts.verdict === 'unlisted') return 'approve';
  return facts.severity === 'critical' ? 'quarantine' : 'escalate';
}

const SEV_RANK = new Map<string, number>(SEVERITIES.map((s, i) => [s, i]));
const MAX_MEMO = 50_000;

type FactName = ResponseFacts extends infer F ? keyof F : never;

/** Every fact some condition reads (the schema allows facts only in `fact`: values are scalars). */
function referencedFacts(conditions: unknown, out: Set<FactName>): Set<FactName> {
  if (Array.isArray(conditions)) for (const c of conditions) referencedFacts(c, out);
  else if (typeof conditions === 'object' && conditions !== null) {
    const c = conditions as { fact?: FactName; all?: unknown; any?: unknown; not?: unknown };
    if (c.fact !== undefined) out.add(c.fact);
    if (c.all !== undefined) referencedFacts(c.all, out);
    if (c.any !== undefined) referencedFacts(c.any, out);
    if (c.not !== undefined) referencedFacts(c.not, out);
  }
  return out;
}

/**
 * The memo key: verdict and severity (the defaults read them) plus only the facts some rule reads,
 * since the answer cannot depend on any other. With the shipped rules that is three short strings,
 * not the function name and sorted tags of every event.
 */
const VERDICT_CODE = new Map<string, number>([['allow', 0], ['deny', 1], ['unlisted', 2]]);
const SEVERITY_CODE = new Map<string, number>(SEVERITIES.map((s, i) => [s, i]));
const MODE_CODE = new Map<string, number>([['monitor', 0], ['block', 1], ['learn', 2]]);

function factKeyFor(used: Set<FactName>): (f: ResponseFacts) => string | number {
  const service = used.has('service'), action = used.has('action'), fn = used.has('functionName');
  const mode = used.has('mode'), tags = used.has('tags');
  const textKey = textKeyFor(service, action, fn, mode, tags);
  if (service || action || fn || tags) return textKey;
  // only enum facts are read (the shipped rules): the key is a small number, no string is built
  return (f) => {
    const v = VERDICT_CODE.get(f.verdict), s = SEVERITY_CODE.get(f.severity), m = mode ? MODE_CODE.get(f.mode) : 0;
    return v === undefined || s === undefined || m === undefined ? textKey(f) : (v * 5 + s) * 3 + m;
  };
}

function textKeyFor(service: boolean, action: boolean, fn: boolean, mode: boolean, tags: boolean): (f: ResponseFacts) => string {
  // free-text facts are length-prefixed, so no choice of text can make two tuples share a key
  const text = (v: string | null): string => (v === null ? '-' : `${v.length}:${v}`);
  return (f) => {
    let k = `${f.verdict}|${f.severity}`;
    if (service) k += `|${text(f.service)}`;
    if (action) k += `|${text(f.action)}`;
    if (fn) k += `|${text(f.functionName)}`;
    if (mode) k += `|${f.mode}`;
    if (tags) {
      const tagKeys = Object.keys(f.tags).sort();
      k += `|${tagKeys.length}`;
      for (const t of tagKeys) k += `|${text(t)}${text(f.tags[t] ?? null)}`;
    }
    return k;
  };
}

export function createResponseSelector(rules?: ResponsesConfig | ResponsesConfigInput | null): SyncResponseSelector {
  const parsed = ResponsesConfigSchema.safeParse(rules ?? { rules: [] });
  if (!parsed.success) {
    throw new ResponseSelectionError(`invalid response rules: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const config = parsed.data;
  const memo = new Map<string | number, { response: ResponseAction; rule: string }>();
  const order = new Map<string, number>(config.rules.map((r, i) => [r.name, i]));
  const used = new Set<FactName>();
  for (const r of config.rules) referencedFacts(r.conditions, used);
  const factKey = factKeyFor(used);
  let engine: Engine | null = null;
  if (config.rules.length > 0) {
    engine = new Engine([], { allowUndefinedFacts: true, allowUndefinedConditions: false });
    engine.addOperator<string, string>('glob', (fact, pattern) => typeof fact === 'string' && typeof pattern === 'string' && globMatch(pattern, fact));
    engine.addOperator<string, Severity>('severityAtLeast', (fact, min) => {
      const a = SEV_RANK.get(fact), b = SEV_RANK.get(min);
      return a !== undefined && b !== undefined && a >= b;
    });
    for (const r of config.rules) {
      const rule: RuleProperties = {
        name: r.name,
        priority: r.priority,
        conditions: r.conditions as TopLevelCondition,
        event: { type: 'response', params: { response: r.response, name: r.name } },
      };
      engine.addRule(rule);
    }
  }

  async function compute(facts: ResponseFacts): Promise<{ response: ResponseAction; rule: string }> {
    if (engine === null) return { response: defaultResponse(facts), rule: 'default' };
    try {
      const { events } = await engine.run({ ...facts, tags: { ...facts.tags } });
      let best: { response: ResponseAction; rule: string; prio: number; idx: number } | null = null;
      for (const ev of events) {
        const name = String(ev.params?.name);
        const rule = config.rules[order.get(name) ?? -1];
        if (!rule) continue;
        const idx = order.get(name)!;
        if (best === null || rule.priority > best.prio || (rule.priority === best.prio && idx < best.idx)) {
          best = { response: rule.response, rule: name, prio: rule.priority, idx };
        }
      }
      return best ? { response: best.response, rule: best.rule } : { response: defaultResponse(facts), rule: 'default' };
    } catch {
      // fail closed: a broken response rule never silences a violation — fall back to the default
      return { response: defaultResponse(facts), rule: 'default (response rules failed)' };
    }
  }

  async function explain(facts: ResponseFacts): Promise<{ response: ResponseAction; rule: string }> {
    const key = factKey(facts);
    const hit = memo.get(key);
    if (hit) return hit;
    const r = await compute(facts);
    if (memo.size >= MAX_MEMO) memo.clear();
    memo.set(key, r);
    return r;
  }

  return {
    async select(facts) {
      return (await explain(facts)).response;
    },
    selectCached(facts) {
      if (engine === null) return defaultResponse(facts);
      return memo.get(factKey(facts))?.response;
    },
    explain,
  };
}
