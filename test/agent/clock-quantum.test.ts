/**
 * The clock quantum (AgentCore `clockQuantumMs`): inside an invocation, repeats of decided accesses
 * share one clock reading for up to a quantum. It must never change a decision: the property test
 * runs the same random history through an agent with the quantum and one that reads the clock on
 * every call, with timers that fire on time, and requires the same verdict at every call and the
 * same counts, with timestamps at most one quantum early.
 */
import fc from 'fast-check';
import type { Access, AccessEvent } from '../../engine/events/access-event';
import type { ExceptionLookup } from '../../engine/handler/exception-match';
import { AgentCore, CLOCK_READING_USES, type Timers } from '../../engine/agent/core';
import { configFromEnv } from '../../engine/agent/config';
import { fakePolicy } from './fake-policy';

const ENV = { AWS_LAMBDA_FUNCTION_NAME: 'orders-api', AWS_REGION: 'us-east-1', WARDEN_ACCOUNT_ID: '123456789012' };
const T0 = Date.parse('2026-11-24T05:00:00.000Z');
const Q = 25;
const TTL = 60; // short, so that expiries fall inside quanta all the time

const ACCESSES: Access[] = [
  { kind: 'http', host: 'api.stripe.com', port: 443 }, // allowed
  { kind: 'http', host: 'pastebin.com', port: 443 }, // unlisted: allowed only while an exception lasts
  { kind: 'http', host: 'evil.example', port: 443 }, // denied
  { kind: 'aws', service: 'dynamodb', action: 'GetItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders' },
];

/** A clock and timers under the test's control: `advance` moves the clock and fires what is due, in order, on time. */
function fakeTime() {
  let now = T0;
  let seq = 0;
  const pending = new Map<number, { due: number; fn: () => void }>();
  const timers: Timers & { cleared: number } = {
    cleared: 0,
    set(fn, ms) { const id = ++seq; pending.set(id, { due: now + ms, fn }); return id; },
    clear(h) { if (pending.delete(h as number)) timers.cleared++; },
  };
  return {
    clock: () => now,
    timers,
    pending: () => pending.size,
    /** moves the clock without firing anything: an event loop blocked by synchronous code */
    skew(ms: number) { now += ms; },
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        let next: [number, { due: number; fn: () => void }] | undefined;
        for (const e of pending) if (e[1].due <= end && (next === undefined || e[1].due < next[1].due)) next = e;
        if (next === undefined) break;
        pending.delete(next[0]);
        now = Math.max(now, next[1].due);
        next[1].fn();
      }
      now = end;
    },
  };
}

function agent(time: ReturnType<typeof fakeTime>, quantum: number, exceptionUntil: () => number | undefined) {
  const exceptions: ExceptionLookup = {
    size: 1,
    find: (a, now) => {
      const until = exceptionUntil();
      return a.host === 'pastebin.com' && until !== undefined && now < until ? { exceptionId: 'ex-1', expiresAtMs: until } : undefined;
    },
  };
  const sent: AccessEvent[] = [];
  const core = new AgentCore({
    config: configFromEnv({ ...ENV, WARDEN_MODE: 'block' }),
    policy: fakePolicy({ allowHosts: ['api.stripe.com'], denyHosts: ['evil.example'], allowAws: ['dynamodb:GetItem'] }),
    sink: { send: async (e) => { sent.push(...e); return { sent: e.length, logged: 0 }; } },
    clock: time.clock, log: () => undefined, newId: () => 'id', decisionTtlMs: TTL,
    clockQuantumMs: quantum, timers: time.timers, exceptions: () => exceptions,
  });
  return { core, sent };
}

/** An agent with the quantum that allows api.stripe.com only, on `time`'s timers (and its clock unless one is given). */
function quantumAgent(time: ReturnType<typeof fakeTime>, clock: () => number = time.clock): AgentCore {
  return new AgentCore({
    config: configFromEnv(ENV), policy: fakePolicy({ allowHosts: ['api.stripe.com'] }), sink: { send: async () => ({ sent: 0, logged: 0 }) },
    clock, log: () => undefined, clockQuantumMs: Q, timers: time.timers,
  });
}

type Op =
  | { op: 'observe'; i: number }
  | { op: 'advance'; ms: number }
  | { op: 'begin' } | { op: 'end' }
  | { op: 'grant'; ms: number } // an exception for pastebin.com lasting `ms` from now
  | { op: 'swap' }; // a policy refresh

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant('observe' as const), i: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: ACCESSES.length - 1 })) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 5 }) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 30 }) }, { weight: 1, arbitrary: fc.integer({ min: 40, max: 70 }) }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'begin' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'end' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('grant' as const), ms: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'swap' as const }) },
);

describe('clock quantum', () => {
  it('never changes a decision, a count or a verdict; timestamps are at most one quantum early', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 200, size: 'max' }), async (ops) => {
      const time = fakeTime();
      let until: number | undefined;
      const q = agent(time, Q, () => until);
      const r = agent(time, 0, () => until);
      let depth = 0;
      for (const o of [{ op: 'begin' } as Op, ...ops]) {
        switch (o.op) {
          case 'observe': {
            const a = q.core.observe(ACCESSES[o.i]!);
            const b = r.core.observe(ACCESSES[o.i]!);
            expect({ verdict: a.verdict, blocked: a.blocked, rule: a.rule, decidedAt: a.decidedAt }).toEqual({ verdict: b.verdict, blocked: b.blocked, rule: b.rule, decidedAt: b.decidedAt });
            expect(a.lastSeen).toBeLessThanOrEqual(b.lastSeen);
            expect(a.lastSeen).toBeGreaterThanOrEqual(b.lastSeen - Q);
            break;
          }
          case 'advance': time.advance(o.ms); break;
          case 'begin': depth++; q.core.beginInvocation(); r.core.beginInvocation(); break;
          case 'end':
            if (depth === 0) break;
            depth--;
            await Promise.all([q.core.endInvocation(), r.core.endInvocation()]);
            break;
          case 'grant': until = time.clock() + o.ms; break;
          case 'swap': {
            const p = fakePolicy({ allowHosts: ['api.stripe.com'], denyHosts: ['evil.example'], allowAws: ['dynamodb:GetItem'] });
            q.core.setPolicy(p); r.core.setPolicy(p);
            break;
          }
        }
      }
      await Promise.all([q.core.flush({ final: true }), r.core.flush({ final: true })]);
      const key = (e: AccessEvent) => `${e.access.host}|${e.access.action}|${e.agentVerdict}|${e.blocked}`;
      const totals = (es: AccessEvent[]) => { const m = new Map<string, number>(); for (const e of es) m.set(key(e), (m.get(key(e)) ?? 0) + e.count); return m; };
      expect(totals(q.sent)).toEqual(totals(r.sent));
      expect(q.core.stats.observed).toBe(r.core.stats.observed);
      expect(q.core.stats.decisions).toBe(r.core.stats.decisions);
    }), { numRuns: 200 });
  });

  it('a repeat under an exception is blocked from the exception\'s expiry on, inside one quantum', () => {
    const time = fakeTime();
    const until = T0 + 10;
    const core = new AgentCore({
      config: configFromEnv({ ...ENV, WARDEN_MODE: 'block' }), policy: fakePolicy({ allowHosts: ['api.stripe.com'] }),
      sink: { send: async () => ({ sent: 0, logged: 0 }) }, clock: time.clock, log: () => undefined, decisionTtlMs: TTL,
      clockQuantumMs: Q, timers: time.timers,
      exceptions: () => ({ size: 1, find: (_a, now) => (now < until ? { exceptionId: 'ex', expiresAtMs: until } : undefined) }),
    });
    core.beginInvocation();
    expect(core.observe(ACCESSES[1]!).blocked).toBe(false); // decided under the exception
    for (let t = 0; t < 9; t++) { time.advance(1); expect(core.observe(ACCESSES[1]!).blocked).toBe(false); } // repeats, T0+1 … T0+9
    time.advance(1); // T0 + 10: the exception no longer applies
    expect(core.observe(ACCESSES[1]!).blocked).toBe(true);
  });

  it('inside an invocation, one clock reading serves the repeats of a quantum; a timer ends it', () => {
    const time = fakeTime();
    let reads = 0;
    const core = quantumAgent(time, () => { reads++; return time.clock(); });
    core.beginInvocation();
    core.observe(ACCESSES[0]!); // decision: reads the clock
    reads = 0;
    const first = core.observe(ACCESSES[0]!); // starts a reading
    for (let i = 0; i < 50; i++) { time.advance(0); core.observe(ACCESSES[0]!); }
    expect(reads).toBe(1);
    time.advance(Q - 1);
    expect(core.observe(ACCESSES[0]!).lastSeen).toBe(T0); // within the quantum: the shared reading
    time.advance(1); // the quantum's timer fires
    expect(core.observe(ACCESSES[0]!).lastSeen).toBe(T0 + Q);
    expect(reads).toBe(2);
    expect(first.pending).toBe(54); // every call counted
  });

  it(`at most ${CLOCK_READING_USES} calls share a reading, even when no timer gets to run`, () => {
    const time = fakeTime();
    const core = quantumAgent(time);
    core.beginInvocation();
    core.observe(ACCESSES[0]!);
    const rec = core.observe(ACCESSES[0]!); // the reading starts at T0
    for (let i = 0; i < CLOCK_READING_USES; i++) { time.skew(1); core.observe(ACCESSES[0]!); }
    expect(rec.lastSeen).toBe(T0);
    time.skew(1);
    core.observe(ACCESSES[0]!);
    expect(rec.lastSeen).toBe(T0 + CLOCK_READING_USES + 1);
  });

  it('outside an invocation every call reads the clock; ending an invocation ends the reading and its timer', async () => {
    const time = fakeTime();
    const core = quantumAgent(time);
    const rec = core.observe(ACCESSES[0]!);
    time.skew(3);
    core.observe(ACCESSES[0]!);
    expect(rec.lastSeen).toBe(T0 + 3);
    expect(time.pending()).toBe(0);
    core.beginInvocation();
    core.observe(ACCESSES[0]!);
    expect(time.pending()).toBe(1);
    await core.endInvocation();
    expect(time.pending()).toBe(0);
    time.skew(5_000); // frozen, thawed: no timer ran
    core.beginInvocation();
    core.observe(ACCESSES[0]!);
    expect(rec.lastSeen).toBe(T0 + 5_003);
  });
});
