import { createHash } from 'node:crypto';
import type { Access, AccessEvent } from '../events/access-event';
import type { Decision, DecisionEventDetail, ResponseAction } from '../events/decision-event';
import { toAccessEvent } from '../stream/access-line';
import type { CompiledPolicy, ListVerdict, ResponseFacts, ResponseSelector } from '../policy/types';
import type { SyncResponseSelector } from '../responses/select';

/**
 * The pure core of the rules-engine Lambda and `warden eval`: raw access event in, decision
 * (and the "Policy Decision" detail) out. Never fails open: anything that cannot be parsed or
 * validated is decided `deny` with an `error`, and an internal failure is a deny too.
 */
export interface EvaluateContext {
  policy: CompiledPolicy;
  responses: ResponseSelector;
  /** epoch ms of the decision (expiry of entries, detail.time) */
  now: number;
  /** id of the decision itself (a ULID in production) */
  newId(): string;
}

export interface Evaluation {
  decision: Decision;
  /** absent when the event could not be parsed (there is no function or access to describe) */
  detail?: DecisionEventDetail;
}

export const INVALID_EVENT_RULE = 'warden:invalid-event';
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** A key that could pollute prototypes anywhere in the value (own keys only, bounded depth). */
export function findReservedKey(value: unknown, depth = 0): string | null {
  if (depth > 8 || typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (const v of value) {
      const r = findReservedKey(v, depth + 1);
      if (r) return r;
    }
    return null;
  }
  for (const k of Object.keys(value)) {
    if (RESERVED.has(k)) return k;
    const r = findReservedKey((value as Record<string, unknown>)[k], depth + 1);
    if (r) return r;
  }
  return null;
}

export function invalidDecision(raw: unknown, error: string, policyVersion: string): Decision {
  const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
    ? ((raw as { id: string }).id.slice(0, 128)) : null;
  return { id, verdict: 'deny', rule: INVALID_EVENT_RULE, severity: 'high', response: 'escalate', policyVersion, error };
}

const hasOwn = Object.prototype.hasOwnProperty;
function ownReserved(o: unknown): string | null {
  if (typeof o !== 'object' || o === null) return null;
  // three property probes instead of listing every key; the listing (for the key named first) only when one is there
  if (!hasOwn.call(o, '__proto__') && !hasOwn.call(o, 'constructor') && !hasOwn.call(o, 'prototype')) return null;
  for (const k of Object.keys(o)) if (RESERVED.has(k)) return k;
  return null;
}

/**
 * Reserved keys where an event's objects are read: the parser copies known fields into fresh
 * objects and passes only `function.tags` through, so these four objects are all that matter.
 */
function reservedInEvent(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const r = raw as { function?: { tags?: unknown }; access?: unknown };
  return ownReserved(r) ?? ownReserved(r.function) ?? ownReserved(r.function?.tags) ?? ownReserved(r.access);
}

/** Parses a raw event; `error` says what is wrong. */
export function parseEvent(raw: unknown): { event: AccessEvent } | { error: string } {
  const bad = reservedInEvent(raw);
  if (bad) return { error: `the key "${bad}" is not allowed in an access event` };
  const r = toAccessEvent(raw);
  return r.ok ? { event: r.event } : { error: r.error };
}

export function describeAccess(a: Access): string {
  if (a.kind === 'aws') return `${a.service}:${a.action}${a.resource ? ` on ${a.resource}` : ''}`;
  const where = a.host ?? a.address ?? '?';
  const port = a.port !== undefined ? `:${a.port}` : '';
  return `${a.kind} ${where.includes(':') && !where.startsWith('[') ? `[${where}]` : where}${port}`;
}

function accessKey(a: Access): string {
  return a.kind === 'aws'
    ? `aws|${(a.service ?? '').toLowerCase()}|${(a.action ?? '').toLowerCase()}|${a.resource ?? ''}`
    : `${a.kind}|${(a.host ?? '').toLowerCase()}|${a.address ?? ''}|${a.port ?? ''}`;
}

/**
 * Same function + same rule + same policy version → same incident, so repeats of one violation
 * share one workflow. An unlisted access has no rule: the access itself stands in for it, so two
 * different unlisted accesses are two incidents (each needs its own approval).
 */
// (rule or unlisted access) → incident id, per function, for one policy version at a time. Keyed by
// the rule first: a rule string is the policy's own (its hash is cached), and most rules belong to
// one function, so the usual hit is one map lookup and one name comparison.
interface RuleIncidents { fn: string; id: string; others: Map<string, string> | null }
let incidentMemo = { version: '', byRule: new Map<string, RuleIncidents>(), size: 0 };
function incidentHash(functionName: string, what: string, policyVersion: string): string {
  return `inc-${createHash('sha256').update(`${functionName}\n${what}\n${policyVersion}`).digest('hex').slice(0, 16)}`;
}
export function incidentIdFor(functionName: string, v: ListVerdict, access: Access, policyVersion: string): string {
  const what = v.rule ?? `unlisted|${accessKey(access)}`;
  if (incidentMemo.version !== policyVersion || incidentMemo.size >= 50_000) incidentMemo = { version: policyVersion, byRule: new Map(), size: 0 };
  const e = incidentMemo.byRule.get(what);
  if (e !== undefined) {
    if (e.fn === functionName) return e.id;
    const hit = e.others?.get(functionName);
    if (hit !== undefined) return hit;
  }
  const id = incidentHash(functionName, what, policyVersion);
  if (e === undefined) incidentMemo.byRule.set(what, { fn: functionName, id, others: null });
  else (e.others ??= new Map()).set(functionName, id);
  incidentMemo.size++;
  return id;
}

let isoMemo = { now: NaN, iso: '' };
function isoOf(now: number): string {
  if (isoMemo.now !== now) isoMemo = { now, iso: new Date(now).toISOString() };
  return isoMemo.iso;
}

export function reasonFor(ev: AccessEvent, v: ListVerdict, response: ResponseAction): string {
  const who = ev.function.name;
  const what = describeAccess(ev.access);
  const then = response === 'none' ? '' : `; response: ${response}`;
  switch (v.verdict) {
    case 'deny':
      return v.rule === 'warden:internal-error'
        ? `${who}'s ${what} was denied because the policy could not be evaluated (fail closed)${then}.`
        : `${who}'s ${what} matches deny rule ${v.rule} (severity ${v.severity})${then}.`;
    case 'allow':
      return v.rule
        ? `${who}'s ${what} is allowed by rule ${v.rule}.`
        : `${who}'s ${what} is allowed: ${who} has no allow list and no deny rule matches.`;
    case 'unlisted':
      return `${who}'s ${what} is not on ${who}'s allow list${then}.`;
  }
}

function factsOf(ev: AccessEvent, v: ListVerdict, mode: ResponseFacts['mode']): ResponseFacts {
  const a = ev.access;
  return {
    verdict: v.verdict,
    severity: v.severity,
    service: a.service !== undefined ? a.service.toLowerCase() : null,
    action: a.action ?? null,
    functionName: ev.function.name,
    tags: ev.function.tags,
    mode,
  };
}

function build(ev: AccessEvent, v: ListVerdict, response: ResponseAction, mode: ResponseFacts['mode'], ctx: EvaluateContext): Evaluation {
  const policyVersion = ctx.policy.policyVersion;
  const decision: Decision = { id: ev.id, verdict: v.verdict, rule: v.rule, severity: v.severity, response, policyVersion };
  // explicit fields, not a spread: the spread of `decision` cost ~10x the whole decision here
  const detail: DecisionEventDetail = {
    id: ev.id, verdict: v.verdict, rule: v.rule, severity: v.severity, response, policyVersion,
    decisionId: ctx.newId(),
    eventId: ev.id,
    incidentId: incidentIdFor(ev.function.name, v, ev.access, policyVersion),
    time: isoOf(ctx.now),
    function: ev.function,
    access: ev.access,
    mode,
    blocked: ev.blocked,
    count: ev.count,
    reason: reasonFor(ev, v, response),
  };
  return { decision, detail };
}

type Prepared = { done: Evaluation } | { ev: AccessEvent; v: ListVerdict; mode: ResponseFacts['mode']; facts: ResponseFacts };

function prepare(raw: unknown, ctx: EvaluateContext): Prepared {
  const parsed = parseEvent(raw);
  if ('error' in parsed) return { done: { decision: invalidDecision(raw, parsed.error, ctx.policy.policyVersion) } };
  const ev = parsed.event;
  const v = ctx.policy.decide(ev.function, ev.access, ctx.now);
  const mode = ctx.policy.modeFor(ev.function.name);
  return { ev, v, mode, facts: factsOf(ev, v, mode) };
}

/** Decides one raw access event (already JSON-decoded). Never throws for bad input. */
export async function evaluateEvent(raw: unknown, ctx: EvaluateContext): Promise<Evaluation> {
  const p = prepare(raw, ctx);
  if ('done' in p) return p.done;
  const cached = (ctx.responses as Partial<SyncResponseSelector>).selectCached?.(p.facts);
  const response = cached ?? (await ctx.responses.select(p.facts));
  return build(p.ev, p.v, response, p.mode, ctx);
}

/**
 * The synchronous fast path: the same result as evaluateEvent when the response for these facts
 * is already memoized (or there are no response rules); `undefined` otherwise — then call
 * evaluateEvent.
 */
export function evaluateEventSync(raw: unknown, ctx: EvaluateContext & { responses: SyncResponseSelector }): Evaluation | undefined {
  const p = prepare(raw, ctx);
  if ('done' in p) return p.done;
  const response = ctx.responses.selectCached(p.facts);
  if (response === undefined) return undefined;
  return build(p.ev, p.v, response, p.mode, ctx);
}
