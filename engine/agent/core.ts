/**
 * The agent's pure core: decide an access against the function's compiled policy (cached per
 * access key), aggregate repeats, and pick what to report at each flush. No hooks, no I/O: the
 * capture modules call `observe`, the runtime calls `flush` with an injected sink and clock.
 */
import type { Access, AccessEvent, FunctionIdentity, Mode, Verdict } from '../events/access-event';
import type { Severity } from '../events/decision-event';
import type { ExceptionLookup } from '../handler/exception-match';
import type { CompiledPolicy } from '../policy/types';
import type { AgentConfig } from './config';
import { AccessDeniedByPolicy } from './errors';

/**
 * The contract's constants (engine/events/access-event.ts), repeated here so the agent does not
 * load zod with the contract's schemas on its cold-start path; a test keeps them equal.
 */
export const ACCESS_EVENT_SOURCE = 'warden.agent';
export const ACCESS_EVENT_DETAIL_TYPE = 'Access Observed';

/** ULIDs from the `ulid` package, loaded on the first event rather than at start-up. */
function lazyUlid(clock: () => number): () => string {
  let gen: ((t: number) => string) | undefined;
  return () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    gen ??= (require('ulid') as typeof import('ulid')).ulid;
    return gen(clock());
  };
}

/** One distinct access (per function) with its cached decision and its not-yet-reported repeats. */
export interface AccessRecord {
  readonly key: string;
  readonly access: Access;
  readonly verdict: Verdict;
  readonly rule: string | null;
  readonly severity: Severity;
  readonly blocked: boolean;
  /** let through only because no policy could be loaded. */
  readonly failOpen: boolean;
  readonly decidedAt: number;
  /** the policy that decided it (its events carry this version) */
  readonly policyVersion: string | undefined;
  /** policy generation the decision belongs to (a policy swap makes every record decide again) */
  readonly generation: number;
  /** occurrences since the last report */
  pending: number;
  windowFirst: number;
  lastSeen: number;
  reported: boolean;
  lastReportedAt: number;
  /** the agent that keeps this record */
  readonly owner: AgentCore;
  /** still the record its agent keeps for its key (false once re-decided or dropped): see `recount` */
  live: boolean;
}

export interface DeliveryReport { sent: number; logged: number }

/** Where events go (PutEvents in production, an array in tests). Must never throw. */
export interface EventSink {
  send(events: AccessEvent[], budgetMs: number): Promise<DeliveryReport>;
}

export interface AgentStats {
  observed: number;
  decisions: number;
  blocked: number;
  failOpenDecisions: number;
  decideErrors: number;
  eventsSent: number;
  eventsLogged: number;
  flushes: number;
}

export interface AgentCoreOptions {
  config: AgentConfig;
  /** undefined when the policy could not be loaded; `policyError` then says why. */
  policy: CompiledPolicy | undefined;
  policyError?: Error;
  sink: EventSink;
  /** epoch ms */
  clock: () => number;
  /** structured log lines (one JSON object each). */
  log: (line: string) => void;
  /** runs a flush soon when a reportable access happens outside a wrapped invocation. */
  schedule?: (fn: () => void) => void;
  newId?: () => string;
  /** how long a cached decision is reused before deciding again (rule expiry). Default 60 s. */
  decisionTtlMs?: number;
  /** bound on distinct accesses kept between reports. */
  maxRecords?: number;
  /** the IP actually connected to for a host/port, when a socket saw it (fills the event's `address`). */
  addressOf?: (host: string | undefined, port: number | undefined) => string | undefined;
  /** the function's approved, time-bound exceptions (signed documents from the policy store): consulted on `unlisted` only. */
  exceptions?: () => ExceptionLookup | undefined;
  /**
   * Inside an invocation, repeats of decided accesses take their time from a clock reading at most
   * this old (ms) instead of reading the clock on every call (see `readClock`). 0 (the default): read
   * it on every call.
   */
  clockQuantumMs?: number;
  /** timers for the clock quantum (default: unref'd setTimeout/clearTimeout) */
  timers?: Timers;
}

/** What the clock quantum needs of timers: `set` returns a handle that `clear` cancels. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const nodeTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Calls that may share one clock reading at most (see `readClock`), however close together. */
export const CLOCK_READING_USES = 256;

export const RULE_POLICY_UNAVAILABLE = 'warden:policy-unavailable';
export const RULE_DECIDE_ERROR = 'warden:decide-error';

export class AgentCore {
  readonly identity: FunctionIdentity;
  private currentMode: Mode;
  private currentPolicy: CompiledPolicy | undefined;
  private generation = 0;
  /** the counters `observe` bumps on every call live on the agent itself (one object fewer touched per call) */
  private observedCount = 0;
  private blockedCount = 0;
  private failOpenCount = 0;
  private readonly counters = { decisions: 0, decideErrors: 0, eventsSent: 0, eventsLogged: 0, flushes: 0 };
  /** A snapshot of the agent's counters. */
  get stats(): AgentStats {
    return { observed: this.observedCount, blocked: this.blockedCount, failOpenDecisions: this.failOpenCount, ...this.counters };
  }
  private readonly records = new Map<string, AccessRecord>();
  /** `address|port` → whether a deny rule matches it (see deniesAddress). */
  private readonly addressVerdicts = new Map<string, { deny: boolean; decidedAt: number; generation: number }>();
  /** records whose verdict changed on re-decision, still holding unreported repeats. */
  private retired: AccessRecord[] = [];
  private invocationDepth = 0;
  private flushScheduled = false;
  private flushChain: Promise<unknown> = Promise.resolve();
  private readonly ttl: number;
  private readonly maxRecords: number;
  private readonly newId: () => string;
  /** `o.clock`, read from here on the hot path */
  private readonly clock: () => number;
  private readonly quantum: number;
  private readonly timers: Timers;
  /** the clock reading repeats use (see `readClock`), and how many more calls may use it (0: read the clock) */
  private tickNow = 0;
  private tickLeft = 0;
  private tickTimer: unknown;
  /** no record decided (and not yet expired) expires before this (ms); a lower bound, recomputed when passed */
  private nextExpiry = Infinity;
  private readonly endTick = (): void => { this.tickLeft = 0; this.tickTimer = undefined; };

  constructor(private readonly o: AgentCoreOptions) {
    const c = o.config;
    this.clock = o.clock;
    this.quantum = Math.max(0, Math.floor(o.clockQuantumMs ?? 0));
    this.timers = o.timers ?? nodeTimers;
    this.identity = { name: c.functionName, account: c.account, region: c.region, roleArn: c.roleArn, tags: c.tags };
    // Without a policy and without WARDEN_MODE we cannot know the bundle's mode: assume block (fail closed).
    this.currentPolicy = o.policy;
    this.currentMode = c.mode ?? (o.policy ? o.policy.modeFor(c.functionName) : 'block');
    this.ttl = o.decisionTtlMs ?? 60_000;
    this.maxRecords = o.maxRecords ?? 10_000;
    this.newId = o.newId ?? lazyUlid(o.clock);
  }

  get config(): AgentConfig { return this.o.config; }
  get mode(): Mode { return this.currentMode; }
  get policyVersion(): string | undefined { return this.currentPolicy?.policyVersion; }

  /**
   * Swaps the policy (a verified refresh): every access is decided again on its next occurrence;
   * repeats counted under the old decision are reported with the old verdict and version.
   */
  setPolicy(policy: CompiledPolicy, mode?: Mode): void {
    this.currentPolicy = policy;
    // `mode`: the kill switch (engine/distribution), which overrides WARDEN_MODE and the rules.
    this.currentMode = mode ?? this.o.config.mode ?? policy.modeFor(this.o.config.functionName);
    this.generation++;
  }
  get policyError(): Error | undefined { return this.o.policyError; }

  /** Sets the account/region from the invoked function ARN (first invocation). */
  setFunctionArn(arn: string | undefined): void {
    const id = this.identity;
    if (id.region !== undefined && id.account !== undefined) return;
    const m = arn ? /^arn:[\w-]+:lambda:([\w-]+):(\d{12}):function:/.exec(arn) : null;
    if (!m) return;
    id.region ??= m[1];
    id.account ??= m[2];
    // decisions taken without the account or region (init code) are taken again with them, and
    // what callers cached from the identity (the SDK capture's ARN context) is rebuilt
    this.generation++;
  }

  /** The identity of an access for caching and aggregation. */
  static keyOf(access: Access): string {
    return `${access.kind}|${access.service}|${access.action}|${access.resource}|${access.host}|${access.port}|${access.address}`;
  }

  /**
   * Whether a deny rule (function or global) matches this resolved address and port, decided on
   * the address alone and cached per address and port (one decide per new connection at most).
   * The name the code used was decided before the lookup; a deny on the address it resolved to
   * must win as well (DNS rebinding). Unlisted is not a deny here: an allow list is judged on the
   * name. No policy: false (the name-level decision already failed closed or open and said so).
   */
  deniesAddress(address: string, port: number | undefined): boolean {
    const policy = this.currentPolicy;
    if (!policy) return false;
    const now = this.o.clock();
    const k = `${address}|${port}`;
    const c = this.addressVerdicts.get(k);
    if (c !== undefined && c.generation === this.generation && now - c.decidedAt <= this.ttl) return c.deny;
    let deny: boolean;
    try {
      deny = policy.decide(this.identity, { kind: 'tcp', address, port }, now).verdict === 'deny';
    } catch (err) {
      this.counters.decideErrors++;
      deny = true;
      this.o.log(JSON.stringify({ level: 'ERROR', source: 'warden.agent', message: 'policy decide threw on a resolved address; deciding deny', address, port, error: String(err) }));
    }
    if (this.addressVerdicts.size >= this.maxRecords) this.addressVerdicts.clear();
    this.addressVerdicts.set(k, { deny, decidedAt: now, generation: this.generation });
    return deny;
  }

  /**
   * Hot path: decide (cached) and count one access. The caller blocks when `blocked`. A caller that
   * reuses access objects can pass `AgentCore.keyOf(access)`, computed once, as `key`.
   */
  observe(access: Access, key: string = AgentCore.keyOf(access)): AccessRecord {
    const cached = this.records.get(key);
    if (cached !== undefined && cached.generation === this.generation) {
      const now = this.repeatNow();
      if (now - cached.decidedAt <= this.ttl) { this.count(cached, now); return cached; }
    }
    const now = this.clock(); // a decision always reads the clock
    const rec = this.decideNew(key, access, now, cached);
    this.count(rec, now);
    return rec;
  }

  /** The time for a repeat of a decided access: the shared clock reading while there is one (see readClock). */
  private repeatNow(): number {
    if (this.tickLeft > 0) { this.tickLeft--; return this.tickNow; }
    return this.readClock();
  }

  /**
   * The time for a repeat of a decided access. Reading the clock costs more than the rest of a
   * repeat when the caches are cold (Date.now() is a C++ call through libc into the vDSO: ≈ 5 µs
   * of an http hook's ≈ 12 µs with every cache evicted before the call, 0.1 µs warm), so inside an
   * invocation one reading serves the calls of the next `clockQuantumMs` (at most
   * CLOCK_READING_USES of them); a timer ends that sooner than any decided access expires
   * (`nextExpiry`), and a decision or the end of the invocation end it at once (a policy swap
   * makes the next call a decision). So a cached decision is never used past its
   * expiry (as far as timers fire on time: not while synchronous code blocks the event loop), and
   * a repeat's `lastSeen`/`firstSeen` is at most one quantum early. Outside an invocation (init
   * code, a process frozen after it) the clock is read on every call. Called by `repeatNow` when
   * there is no shared reading (`tickLeft`/`tickNow`).
   */
  private readClock(): number {
    const now = this.clock();
    if (this.quantum > 0 && this.invocationDepth > 0) this.startTick(now);
    return now;
  }

  private startTick(now: number): void {
    let next = this.nextExpiry;
    if (next < now) next = this.nextExpiry = this.earliestExpiry(now);
    // a record valid at `now` expires once the clock passes decidedAt + ttl: the reading must be
    // given up by then (a timer fires at or before its delay, measured from the loop's time)
    const delay = Math.min(this.quantum, Math.floor(next - now));
    if (!(delay >= 1)) return;
    this.tickNow = now;
    this.tickLeft = CLOCK_READING_USES;
    if (this.tickTimer !== undefined) this.timers.clear(this.tickTimer);
    this.tickTimer = this.timers.set(this.endTick, delay);
  }

  /** Ends the shared clock reading now (the next repeat reads the clock). */
  private stopTick(): void {
    this.tickLeft = 0;
    if (this.tickTimer !== undefined) { this.timers.clear(this.tickTimer); this.tickTimer = undefined; }
  }

  /** The earliest expiry (decidedAt + ttl) at or after `now` among the kept records. */
  private earliestExpiry(now: number): number {
    let min = Infinity;
    for (const rec of this.records.values()) {
      const e = rec.decidedAt + this.ttl;
      if (e >= now && e < min) min = e;
    }
    return min;
  }

  /**
   * `observe` again for a record `observe` returned before, without the lookup: counts one more
   * occurrence and returns true while that record still holds (same agent, same policy, within
   * the decision TTL, not re-decided or dropped); false (nothing counted) when the caller must
   * `observe` instead.
   */
  recount(rec: AccessRecord): boolean {
    if (!rec.live || rec.owner !== this || rec.generation !== this.generation) return false;
    const now = this.repeatNow();
    if (now - rec.decidedAt > this.ttl) return false;
    this.count(rec, now);
    return true;
  }

  private count(rec: AccessRecord, now: number): void {
    this.observedCount++;
    if (rec.pending++ === 0) rec.windowFirst = now;
    rec.lastSeen = now;
    if (rec.blocked) this.blockedCount++;
    if (rec.failOpen) this.failOpenCount++;
    if (this.invocationDepth === 0 && !this.flushScheduled && this.isDue(rec, now)) this.scheduleFlush();
  }

  /** The error a blocked access fails with. */
  deniedError(rec: AccessRecord): AccessDeniedByPolicy {
    return new AccessDeniedByPolicy({ access: rec.access, verdict: rec.verdict, rule: rec.rule, mode: this.mode, policyVersion: this.policyVersion, functionName: this.identity.name });
  }

  beginInvocation(): void { this.invocationDepth++; }

  /** Ends an invocation and flushes what is due (violations always). */
  async endInvocation(): Promise<DeliveryReport> {
    this.invocationDepth = Math.max(0, this.invocationDepth - 1);
    this.stopTick(); // the process may be frozen after this: no reading outlives the invocation
    return this.flush();
  }

  /** Reports what is due now; `final` also reports every pending allowed repeat (shutdown). */
  flush(opts: { final?: boolean } = {}): Promise<DeliveryReport> {
    const run = async (): Promise<DeliveryReport> => {
      const events = this.collect(this.o.clock(), opts.final ?? false);
      if (events.length === 0) return { sent: 0, logged: 0 };
      this.counters.flushes++;
      const r = await this.o.sink.send(events, this.o.config.flushBudgetMs);
      this.counters.eventsSent += r.sent;
      this.counters.eventsLogged += r.logged;
      return r;
    };
    const p = this.flushChain.then(run, run);
    this.flushChain = p.catch(() => undefined);
    return p;
  }

  /** Pure selection of the events to report at `now`; resets the reported counts. */
  collect(now: number, final: boolean): AccessEvent[] {
    const out: AccessEvent[] = [];
    for (const rec of this.retired) out.push(this.toEvent(rec, now));
    this.retired = [];
    for (const rec of this.records.values()) {
      if (rec.pending > 0 && (final || this.isDue(rec, now))) out.push(this.toEvent(rec, now));
    }
    if (this.records.size > this.maxRecords) {
      for (const [k, rec] of this.records) if (rec.pending === 0) { rec.live = false; this.records.delete(k); }
    }
    return out;
  }

  /** Number of distinct accesses currently tracked. */
  get size(): number { return this.records.size; }

  private isDue(rec: AccessRecord, now: number): boolean {
    if (rec.pending === 0) return false;
    if (rec.verdict !== 'allow' || rec.failOpen || !rec.reported) return true;
    return now - rec.lastReportedAt >= this.o.config.reportIntervalMs;
  }

  private toEvent(rec: AccessRecord, now: number): AccessEvent {
    const ev: AccessEvent = {
      id: this.newId(),
      time: new Date(now).toISOString(),
      function: { ...this.identity, tags: { ...this.identity.tags } },
      access: this.withAddress(rec.access),
      mode: this.mode,
      agentVerdict: rec.verdict,
      blocked: rec.blocked,
      count: rec.pending,
      firstSeen: new Date(rec.windowFirst).toISOString(),
      lastSeen: new Date(rec.lastSeen).toISOString(),
      policyVersion: rec.policyVersion,
    };
    if (rec.failOpen) ev.failOpen = true;
    rec.pending = 0;
    rec.reported = true;
    rec.lastReportedAt = now;
    return ev;
  }

  private withAddress(a: Access): Access {
    if (a.address !== undefined || !this.o.addressOf) return a;
    const address = this.o.addressOf(a.host, a.port);
    return address ? { ...a, address } : a;
  }

  private decideNew(key: string, access: Access, now: number, previous: AccessRecord | undefined): AccessRecord {
    this.counters.decisions++;
    let verdict: Verdict;
    let rule: string | null;
    let severity: Severity;
    let failOpen = false;
    const policy = this.currentPolicy;
    if (!policy) {
      verdict = 'deny'; rule = RULE_POLICY_UNAVAILABLE; severity = 'high';
    } else {
      try {
        ({ verdict, rule, severity } = policy.decide(this.identity, access, now));
      } catch (err) {
        // The contract says decide never throws; if it does, fail closed and say so once per access.
        this.counters.decideErrors++;
        verdict = 'deny'; rule = RULE_DECIDE_ERROR; severity = 'high';
        this.o.log(JSON.stringify({ level: 'ERROR', source: 'warden.agent', message: 'policy decide threw; deciding deny', access, error: String(err) }));
      }
    }
    // An approved exception turns exactly that access from unlisted into allow, never a deny; its
    // decision is cached no longer than the exception lasts (decidedAt is set so the TTL ends there).
    let decidedAt = now;
    if (verdict === 'unlisted' && this.o.exceptions) {
      const ex = this.o.exceptions()?.find(access, now);
      if (ex) { verdict = 'allow'; rule = `exception:${ex.exceptionId}`; severity = 'info'; decidedAt = Math.min(now, ex.expiresAtMs - 1 - this.ttl); }
    }
    let blocked = this.mode === 'block' && verdict !== 'allow';
    if (!policy && (this.o.config.failOpen || this.mode !== 'block')) { blocked = false; failOpen = true; }
    const rec: AccessRecord = {
      key, access, verdict, rule, severity, blocked, failOpen, decidedAt, policyVersion: policy?.policyVersion, generation: this.generation,
      pending: 0, windowFirst: now, lastSeen: now, reported: false, lastReportedAt: 0, owner: this, live: true,
    };
    if (previous) {
      previous.live = false;
      if (previous.verdict === verdict && previous.blocked === blocked && previous.policyVersion === rec.policyVersion) {
        rec.pending = previous.pending; rec.windowFirst = previous.windowFirst; rec.lastSeen = previous.lastSeen;
        rec.reported = previous.reported; rec.lastReportedAt = previous.lastReportedAt;
      } else if (previous.pending > 0) {
        this.retired.push(previous);
      }
    }
    this.records.set(key, rec);
    // this record may expire before the current clock reading would be given up
    const expiry = decidedAt + this.ttl;
    if (expiry < this.nextExpiry) this.nextExpiry = expiry;
    this.stopTick();
    return rec;
  }

  private scheduleFlush(): void {
    if (!this.o.schedule) return;
    this.flushScheduled = true;
    this.o.schedule(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }
}
