import type { AccessEvent, Verdict } from '../events/access-event';
import type { ResponseAction, Severity } from '../events/decision-event';
import type { CompiledPolicy, ListVerdict, ResponseFacts, ResponseSelector } from '../policy/types';
import { detach } from '../stream/access-line';

/**
 * Impact analysis: replays observed traffic against two rule sets and reports what changes.
 *
 * The hot loop is synchronous: each event is decided by both compiled policies and folded into a
 * group keyed by everything the response depends on (function, tags, service, action, both list
 * verdicts). Responses (json-rules-engine, async) are selected afterwards, once per group, so the
 * cost of a response rule is paid per distinct situation, not per log line. Memory is bounded by
 * the number of groups, never by the size of the log.
 */
export interface ReplaySide {
  policy: CompiledPolicy;
  selector: ResponseSelector;
  /** for the report: the directory or git ref the rules came from */
  source: string;
}

export interface SideDecision {
  verdict: Verdict;
  rule: string | null;
  severity: Severity;
  response: ResponseAction;
}

export interface AccessSample { line: number; id: string; access: string }

export interface DiffChange {
  function: string;
  base: SideDecision;
  head: SideDecision;
  /** accesses (sum of the events' `count`) */
  accesses: number;
  events: number;
  /** previously allowed traffic that head would deny or leave unlisted */
  breaking: boolean;
  kind: 'verdict' | 'response' | 'rule';
  samples: AccessSample[];
}

export interface DiffReport {
  base: { source: string; policyVersion: string };
  head: { source: string; policyVersion: string };
  events: number;
  accesses: number;
  changes: DiffChange[];
  breaking: { changes: number; accesses: number };
}

const SAMPLES = 3;

interface Group {
  fn: string;
  tags: Record<string, string>;
  service: string | null;
  action: string | null;
  base: { verdict: Verdict; rule: string | null; severity: Severity };
  head: { verdict: Verdict; rule: string | null; severity: Severity };
  accesses: number;
  events: number;
  samples: AccessSample[];
}

export function describeAccess(a: AccessEvent['access']): string {
  if (a.kind === 'aws') return `${a.service}:${a.action}${a.resource ? ` ${a.resource}` : ''}`;
  const where = a.host ?? a.address ?? '?';
  return `${a.kind} ${where}${a.port !== undefined ? `:${a.port}` : ''}`;
}

/** Tags in their given order, length-prefixed: equal tags in another order only make a second group, merged in the report. */
function tagsKey(tags: Record<string, string>): string {
  let k = '';
  for (const t in tags) { const v = tags[t]!; k += `${t.length}:${t}${v.length}:${v}`; }
  return k;
}

type Level<T> = Map<string, T>;

interface AccessNode { fn: AccessEvent['function']; access: AccessEvent['access']; count: number; events: number; line: number; id: string }

/** Unambiguous key of everything decide() and the response facts read (strings length-prefixed). */
function accessKey(fn: string, tags: string, a: AccessEvent['access']): string {
  const r = a.resource, h = a.host, ad = a.address;
  return `${fn.length}:${fn}${tags.length}:${tags}${a.kind}|${a.service === undefined ? '-' : `${a.service.length}:${a.service}`}`
    + `${a.action === undefined ? '-' : `${a.action.length}:${a.action}`}${r === undefined ? '-' : `${r.length}:${r}`}`
    + `${h === undefined ? '-' : `${h.length}:${h}`}${ad === undefined ? '-' : `${ad.length}:${ad}`}|${a.port ?? '-'}`;
}

const mk = <T>(): Map<string, T> => new Map();
function sub<T>(m: Level<T>, k: string, make: () => T): T {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = make()));
  return v;
}

export class Replay {
  // function → tags → service → action → base rule → head rule → group. Nested maps keyed by the
  // strings the event and the policy already hold: no key string is built per event.
  private readonly tree: Level<Level<Level<Level<Level<Level<Group>>>>>> = new Map();
  // groups whose rule id decided with another verdict or severity (duplicate ids): full key
  private readonly odd = new Map<string, Group>();
  private readonly groups: Group[] = [];
  events = 0;
  accesses = 0;

  constructor(private readonly base: ReplaySide, private readonly head: ReplaySide, private readonly now: number) {}

  /**
   * Folds one event in. Events are first aggregated by distinct access (function, tags and every
   * field the decision reads), so each distinct access is decided once per side in report(); past
   * MAX_DISTINCT distinct accesses, new ones are decided on arrival instead, which keeps memory
   * bounded on logs of endless variety.
   */
  add(ev: AccessEvent, line: number): void {
    this.events++;
    this.accesses += ev.count;
    const fn = ev.function;
    const a = ev.access;
    const byAccess = this.byObject.get(fn);
    const hit = byAccess?.get(a);
    if (hit !== undefined) {
      hit.count += ev.count;
      hit.events++;
      return;
    }
    const key = accessKey(fn.name, tagsKey(fn.tags), a);
    let n = this.distinct.get(key);
    if (n !== undefined) {
      n.count += ev.count;
      n.events++;
    } else if (this.distinct.size < Replay.MAX_DISTINCT) {
      n = { fn, access: a, count: ev.count, events: 1, line, id: detach(ev.id) };
      this.distinct.set(key, n);
    } else {
      this.fold(fn, a, ev.count, 1, line, ev.id);
      return;
    }
    // the log reader shares frozen function and access objects among events with the same text:
    // remember the node by those objects, so the next such event needs no key string
    if (Object.isFrozen(fn) && Object.isFrozen(a)) {
      if (this.byObjectSize >= Replay.MAX_DISTINCT) {
        this.byObject.clear();
        this.byObjectSize = 0;
      }
      let m = byAccess;
      if (m === undefined) this.byObject.set(fn, (m = new Map()));
      m.set(a, n);
      this.byObjectSize++;
    }
  }

  static MAX_DISTINCT = 100_000;
  private readonly distinct = new Map<string, AccessNode>();
  /** the nodes of `distinct` by the (shared, frozen) function and access objects of their events */
  private readonly byObject = new Map<AccessEvent['function'], Map<AccessEvent['access'], AccessNode>>();
  private byObjectSize = 0;

  private fold(fn: AccessEvent['function'], access: AccessEvent['access'], count: number, events: number, line: number, id: string): void {
    const b = this.base.policy.decide(fn, access, this.now);
    const h = this.head.policy.decide(fn, access, this.now);
    const service = access.service ?? null;
    const action = access.action ?? null;
    const tk = tagsKey(fn.tags);
    const byTags = sub(this.tree, fn.name, mk<Level<Level<Level<Level<Group>>>>>);
    const byService = sub(byTags, tk, mk<Level<Level<Level<Group>>>>);
    const byAction = sub(byService, service ?? '', mk<Level<Level<Group>>>);
    const byBase = sub(byAction, action ?? '', mk<Level<Group>>);
    const leaf = sub(byBase, b.rule ?? b.verdict, mk<Group>);
    const hk = h.rule ?? h.verdict;
    let g = leaf.get(hk);
    if (g !== undefined && (g.base.verdict !== b.verdict || g.base.severity !== b.severity || g.head.verdict !== h.verdict || g.head.severity !== h.severity)) {
      const key = `${fn.name}\0${tk}\0${service}\0${action}\0${b.verdict}\0${b.rule}\0${b.severity}\0${h.verdict}\0${h.rule}\0${h.severity}`;
      g = this.odd.get(key);
      if (g === undefined) this.odd.set(key, (g = this.newGroup(fn, service, action, b, h)));
    } else if (g === undefined) {
      leaf.set(hk, (g = this.newGroup(fn, service, action, b, h)));
    }
    g.accesses += count;
    g.events += events;
    if (g.samples.length < SAMPLES) g.samples.push({ line, id: detach(id), access: describeAccess(access) });
  }

  private newGroup(fn: AccessEvent['function'], service: string | null, action: string | null, b: ListVerdict, h: ListVerdict): Group {
    const g: Group = {
      fn: fn.name, tags: fn.tags, service, action,
      base: { verdict: b.verdict, rule: b.rule, severity: b.severity },
      head: { verdict: h.verdict, rule: h.rule, severity: h.severity },
      accesses: 0, events: 0, samples: [],
    };
    this.groups.push(g);
    return g;
  }

  /** Selects responses per group on both sides and returns the changes, grouped by function and rule. */
  async report(): Promise<DiffReport> {
    for (const n of this.distinct.values()) this.fold(n.fn, n.access, n.count, n.events, n.line, n.id);
    this.distinct.clear();
    this.byObject.clear();
    this.byObjectSize = 0;
    const memo = new Map<string, Promise<ResponseAction>>();
    const respond = (side: ReplaySide, which: string, facts: ResponseFacts): Promise<ResponseAction> => {
      const k = `${which}\0${JSON.stringify(facts)}`;
      let p = memo.get(k);
      if (!p) memo.set(k, (p = side.selector.select(facts)));
      return p;
    };
    const merged = new Map<string, DiffChange>();
    for (const g of this.groups) {
      const facts = (d: Group['base'], side: ReplaySide): ResponseFacts => ({
        verdict: d.verdict, severity: d.severity, service: g.service, action: g.action,
        functionName: g.fn, tags: g.tags, mode: side.policy.modeFor(g.fn),
      });
      const [br, hr] = await Promise.all([respond(this.base, 'b', facts(g.base, this.base)), respond(this.head, 'h', facts(g.head, this.head))]);
      const base: SideDecision = { ...g.base, response: br };
      const head: SideDecision = { ...g.head, response: hr };
      const kind = base.verdict !== head.verdict ? 'verdict' : base.response !== head.response ? 'response'
        : base.rule !== head.rule ? 'rule' : null;
      if (!kind) continue;
      // service/action/tags only feed the response; the report groups by function and decision
      const key = `${g.fn}\0${JSON.stringify(base)}\0${JSON.stringify(head)}`;
      let c = merged.get(key);
      if (!c) {
        c = {
          function: g.fn, base, head, accesses: 0, events: 0, kind, samples: [],
          breaking: base.verdict === 'allow' && head.verdict !== 'allow',
        };
        merged.set(key, c);
      }
      c.accesses += g.accesses;
      c.events += g.events;
      for (const s of g.samples) if (c.samples.length < SAMPLES) c.samples.push(s);
    }
    const changes = [...merged.values()].sort((x, y) =>
      x.function < y.function ? -1 : x.function > y.function ? 1 : Number(y.breaking) - Number(x.breaking) || y.accesses - x.accesses);
    for (const c of changes) c.samples.sort((a, b) => a.line - b.line);
    const breaking = changes.filter((c) => c.breaking);
    return {
      base: { source: this.base.source, policyVersion: this.base.policy.policyVersion },
      head: { source: this.head.source, policyVersion: this.head.policy.policyVersion },
      events: this.events,
      accesses: this.accesses,
      changes,
      breaking: { changes: breaking.length, accesses: breaking.reduce((s, c) => s + c.accesses, 0) },
    };
  }
}

const n = (x: number): string => x.toLocaleString('en-US');
const side = (d: SideDecision): string => `${d.verdict}${d.rule ? ` (${d.rule})` : ''}`;

/** The human-readable report. */
export function formatDiff(r: DiffReport, extra: { badLines: number }): string {
  const out: string[] = [];
  out.push(`replayed ${n(r.events)} events (${n(r.accesses)} accesses)${extra.badLines ? `, ${n(extra.badLines)} bad lines skipped` : ''}`);
  out.push(`base ${r.base.source} (${r.base.policyVersion}) -> head ${r.head.source} (${r.head.policyVersion})`);
  if (r.changes.length === 0) {
    out.push('no decision or response changes');
    return out.join('\n') + '\n';
  }
  const fns = new Set(r.changes.map((c) => c.function));
  out.push(`${n(r.changes.length)} changes in ${n(fns.size)} functions; ${r.breaking.changes
    ? `${n(r.breaking.changes)} would block previously allowed traffic (${n(r.breaking.accesses)} accesses)`
    : 'none blocks previously allowed traffic'}`);
  let current = '';
  for (const c of r.changes) {
    if (c.function !== current) {
      current = c.function;
      out.push('', c.function);
    }
    const mark = c.breaking ? 'BREAKS' : c.kind === 'verdict' ? 'changes' : c.kind === 'response' ? 'response' : 'rule';
    let line = `  ${mark.padEnd(8)} ${side(c.base)} -> ${side(c.head)}: ${n(c.accesses)} accesses in ${n(c.events)} events`;
    if (c.base.response !== c.head.response) line += `; response ${c.base.response} -> ${c.head.response}`;
    out.push(line);
    for (const s of c.samples) out.push(`           e.g. line ${s.line} (${s.id}): ${s.access}`);
  }
  return out.join('\n') + '\n';
}
