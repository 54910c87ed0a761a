import type { AccessEvent } from '../../engine/events/access-event';
import { AccessEventSchema } from '../../engine/events/access-event';
import { AgentCore, RULE_DECIDE_ERROR, RULE_POLICY_UNAVAILABLE, type EventSink } from '../../engine/agent/core';
import { configFromEnv } from '../../engine/agent/config';
import { fakePolicy, type FakePolicyOptions } from './fake-policy';

const ENV = { AWS_LAMBDA_FUNCTION_NAME: 'orders-api', AWS_REGION: 'us-east-1', WARDEN_ACCOUNT_ID: '123456789012' };

function setup(policy: FakePolicyOptions | null, env: Record<string, string> = {}) {
  let now = Date.parse('2026-11-23T18:00:00.000Z');
  const sent: AccessEvent[][] = [];
  const sink: EventSink = { send: async (events) => { sent.push(events); return { sent: events.length, logged: 0 }; } };
  const scheduled: Array<() => void> = [];
  const logs: string[] = [];
  const p = policy ? fakePolicy(policy) : undefined;
  let n = 0;
  const core = new AgentCore({
    config: configFromEnv({ ...ENV, ...env }), policy: p, sink, clock: () => now, log: (l) => logs.push(l),
    schedule: (fn) => scheduled.push(fn), newId: () => `id-${++n}`,
  });
  return { core, sent, scheduled, logs, policy: p, advance: (ms: number) => { now += ms; }, all: () => sent.flat() };
}

const stripe = { kind: 'http' as const, host: 'api.stripe.com', port: 443 };
const paste = { kind: 'http' as const, host: 'pastebin.com', port: 443 };

describe('AgentCore decisions', () => {
  it('decides once per distinct access and caches the verdict', () => {
    const t = setup({ allowHosts: ['api.stripe.com'] });
    for (let i = 0; i < 1000; i++) t.core.observe(stripe);
    expect(t.policy!.calls).toBe(1);
    expect(t.core.observe(stripe).verdict).toBe('allow');
  });

  it('blocks unlisted and denied access only in block mode', () => {
    expect(setup({ allowHosts: ['api.stripe.com'], mode: 'block' }).core.observe(paste).blocked).toBe(true);
    expect(setup({ allowHosts: ['api.stripe.com'], mode: 'monitor' }).core.observe(paste).blocked).toBe(false);
    expect(setup({ allowHosts: ['api.stripe.com'], mode: 'learn' }).core.observe(paste).blocked).toBe(false);
    expect(setup({ allowHosts: ['api.stripe.com'], mode: 'block' }).core.observe(stripe).blocked).toBe(false);
  });

  it('WARDEN_MODE overrides the bundle mode', () => {
    const t = setup({ allowHosts: ['api.stripe.com'], mode: 'monitor' }, { WARDEN_MODE: 'block' });
    expect(t.core.mode).toBe('block');
    expect(t.core.observe(paste).blocked).toBe(true);
  });

  it('decides again after the decision TTL (rule expiry) and reports the old verdict separately', async () => {
    const t = setup({ allowHosts: ['api.stripe.com'] });
    t.core.observe(stripe);
    t.advance(61_000);
    t.core.observe(stripe);
    expect(t.policy!.calls).toBe(2);
  });

  it('fails closed when the policy is unavailable in block mode (default when the mode is unknown)', () => {
    const t = setup(null);
    expect(t.core.mode).toBe('block');
    const r = t.core.observe(stripe);
    expect(r).toMatchObject({ verdict: 'deny', rule: RULE_POLICY_UNAVAILABLE, blocked: true, failOpen: false });
  });

  it('fails open when WARDEN_FAIL_OPEN=true, counting and reporting each fail-open decision', async () => {
    const t = setup(null, { WARDEN_FAIL_OPEN: 'true' });
    t.core.beginInvocation();
    t.core.observe(stripe); t.core.observe(stripe);
    const r = t.core.observe(paste);
    expect(r).toMatchObject({ blocked: false, failOpen: true });
    expect(t.core.stats.failOpenDecisions).toBe(3);
    await t.core.endInvocation();
    expect(t.all()).toHaveLength(2);
    expect(t.all().every((e) => e.failOpen === true && e.agentVerdict === 'deny' && !e.blocked)).toBe(true);
    t.core.beginInvocation();
    t.core.observe(stripe);
    await t.core.endInvocation();
    expect(t.all()).toHaveLength(3); // fail-open decisions are never folded into the interval summary
  });

  it('a decide() that throws decides deny (fail closed) and logs once', () => {
    const t = setup({ throws: true, mode: 'block' });
    const r = t.core.observe(stripe);
    t.core.observe(stripe);
    expect(r).toMatchObject({ verdict: 'deny', rule: RULE_DECIDE_ERROR, blocked: true });
    expect(t.core.stats.decideErrors).toBe(1);
    expect(t.logs).toHaveLength(1);
    expect(JSON.parse(t.logs[0]!)).toMatchObject({ level: 'ERROR', source: 'warden.agent' });
  });

  it('builds the blocking error with the access, verdict and rule', () => {
    const t = setup({ denyHosts: ['pastebin.com'], mode: 'block' });
    const err = t.core.deniedError(t.core.observe(paste));
    expect(err.name).toBe('AccessDeniedByPolicy');
    expect(err.verdict).toBe('deny');
    expect(err.rule).toBe('deny-pastebin.com');
    expect(err.message).toContain('pastebin.com:443');
    expect(err.message).toContain('orders-api');
  });

  it('takes account and region from the invoked function ARN when not configured', () => {
    const t = setup({});
    const core = new AgentCore({ config: configFromEnv({ AWS_LAMBDA_FUNCTION_NAME: 'f' }), policy: fakePolicy(), sink: { send: async () => ({ sent: 0, logged: 0 }) }, clock: () => 0, log: () => undefined });
    core.setFunctionArn('arn:aws:lambda:eu-west-1:111122223333:function:f');
    expect(core.identity).toMatchObject({ account: '111122223333', region: 'eu-west-1' });
    expect(t.core.identity.name).toBe('orders-api');
  });

  it('decides again, with the account and region, what it decided before the function ARN was known (init code)', () => {
    const policy = fakePolicy({ allowHosts: ['api.stripe.com'] });
    const core = new AgentCore({ config: configFromEnv({ AWS_LAMBDA_FUNCTION_NAME: 'f' }), policy, sink: { send: async () => ({ sent: 0, logged: 0 }) }, clock: () => 0, log: () => undefined });
    const before = core.observe(stripe);
    expect(core.recount(before)).toBe(true);
    core.setFunctionArn('arn:aws:lambda:eu-west-1:111122223333:function:f');
    expect(core.recount(before)).toBe(false); // a record decided without the account no longer holds
    core.observe(stripe);
    expect(policy.calls).toBe(2);
    core.setFunctionArn('arn:aws:lambda:eu-west-1:111122223333:function:f'); // every later invocation: nothing changes
    core.observe(stripe);
    expect(policy.calls).toBe(2);
  });
});

describe('AgentCore aggregation', () => {
  it('10,000 identical calls in one invocation become one event with count 10000', async () => {
    const t = setup({ allowHosts: ['api.stripe.com'] });
    t.core.beginInvocation();
    for (let i = 0; i < 10_000; i++) { t.core.observe(stripe); t.advance(1); }
    await t.core.endInvocation();
    expect(t.all()).toHaveLength(1);
    const ev = t.all()[0]!;
    expect(ev.count).toBe(10_000);
    expect(ev.firstSeen).toBe('2026-11-23T18:00:00.000Z');
    expect(ev.lastSeen).toBe('2026-11-23T18:00:09.999Z');
    expect(AccessEventSchema.parse(ev)).toMatchObject({ mode: 'monitor', agentVerdict: 'allow', blocked: false, policyVersion: 'sha256:fake0001', function: { name: 'orders-api', account: '123456789012', region: 'us-east-1' } });
  });

  it('reports an allowed access the first time, then a count summary at most once per interval', async () => {
    const t = setup({ allowHosts: ['api.stripe.com'] });
    const invoke = async () => { t.core.beginInvocation(); t.core.observe(stripe); t.core.observe(stripe); await t.core.endInvocation(); t.advance(100); };
    for (let i = 0; i < 1000; i++) await invoke(); // 100 s of warm invocations
    const events = t.all();
    expect(events).toHaveLength(2);
    expect(events[0]!.count).toBe(2);
    expect(events[1]!.count).toBe(1200); // everything seen during the next 60 s window
    expect(events.reduce((n, e) => n + e.count, 0) + 0).toBeLessThanOrEqual(2000);
    await t.core.flush({ final: true });
    expect(t.all().reduce((n, e) => n + e.count, 0)).toBe(2000); // a final flush loses nothing
  });

  it('the report interval is configurable (WARDEN_REPORT_INTERVAL_S)', async () => {
    const t = setup({ allowHosts: ['api.stripe.com'] }, { WARDEN_REPORT_INTERVAL_S: '5' });
    for (let i = 0; i < 20; i++) { t.core.beginInvocation(); t.core.observe(stripe); await t.core.endInvocation(); t.advance(1000); }
    expect(t.all()).toHaveLength(4); // t=0, then at 5 s, 10 s, 15 s
  });

  it('violations are reported at the end of every invocation that made them, never folded', async () => {
    const t = setup({ allowHosts: ['api.stripe.com'], mode: 'monitor' });
    for (let i = 0; i < 3; i++) {
      t.core.beginInvocation();
      t.core.observe(paste); t.core.observe(paste);
      await t.core.endInvocation();
      expect(t.sent.at(-1)!.map((e) => [e.access.host, e.count, e.agentVerdict])).toEqual([['pastebin.com', 2, 'unlisted']]);
      t.advance(10);
    }
    expect(t.sent).toHaveLength(3);
  });

  it('outside a wrapped invocation a reportable access schedules a flush', async () => {
    const t = setup({ allowHosts: ['api.stripe.com'] });
    t.core.observe(paste);
    t.core.observe(paste);
    expect(t.scheduled).toHaveLength(1);
    t.scheduled[0]!();
    await t.core.flush();
    expect(t.all().map((e) => e.count)).toEqual([2]);
  });

  it('reports the old verdict separately when a re-decision changes it', async () => {
    let deny = false;
    const now = { t: 0 };
    const sent: AccessEvent[] = [];
    const core = new AgentCore({
      config: configFromEnv(ENV),
      policy: { policyVersion: 'v', modeFor: () => 'monitor', decide: () => (deny ? { verdict: 'deny', rule: 'r', severity: 'high' } : { verdict: 'allow', rule: 'a', severity: 'info' }) },
      sink: { send: async (e) => { sent.push(...e); return { sent: e.length, logged: 0 }; } }, clock: () => now.t, log: () => undefined,
    });
    core.beginInvocation();
    core.observe(stripe); await core.endInvocation();
    core.beginInvocation(); core.observe(stripe); core.observe(stripe);
    deny = true; now.t += 61_000;
    core.observe(stripe);
    await core.endInvocation();
    expect(sent.map((e) => [e.agentVerdict, e.count])).toEqual([['allow', 1], ['allow', 2], ['deny', 1]]);
  });

  it('serializes concurrent flushes (no event sent twice)', async () => {
    const t = setup({ denyHosts: ['pastebin.com'] });
    t.core.beginInvocation();
    t.core.observe(paste);
    await Promise.all([t.core.endInvocation(), t.core.flush(), t.core.flush()]);
    expect(t.all()).toHaveLength(1);
  });
});

describe('contract constants', () => {
  it('the agent repeats the access-event source and detail type exactly', async () => {
    const contract = await import('../../engine/events/access-event');
    const core = await import('../../engine/agent/core');
    expect([core.ACCESS_EVENT_SOURCE, core.ACCESS_EVENT_DETAIL_TYPE]).toEqual([contract.ACCESS_EVENT_SOURCE, contract.ACCESS_EVENT_DETAIL_TYPE]);
  });
});

describe('policy refresh (setPolicy)', () => {
  it('decides again under the new policy and reports earlier repeats with the old version', async () => {
    const sent: AccessEvent[] = [];
    const core = new AgentCore({
      config: configFromEnv(ENV), policy: fakePolicy({ allowHosts: ['api.stripe.com'], mode: 'monitor' }),
      sink: { send: async (e) => { sent.push(...e); return { sent: e.length, logged: 0 }; } }, clock: () => 0, log: () => undefined,
    });
    core.beginInvocation();
    expect(core.observe(paste).blocked).toBe(false);
    const next = { ...fakePolicy({ allowHosts: ['api.stripe.com'], mode: 'block' }), policyVersion: 'sha256:fake0002' };
    core.setPolicy(next);
    expect(core.mode).toBe('block');
    expect(core.policyVersion).toBe('sha256:fake0002');
    expect(core.observe(paste).blocked).toBe(true);
    await core.endInvocation();
    expect(sent.map((e) => [e.policyVersion, e.blocked, e.count])).toEqual([['sha256:fake0001', false, 1], ['sha256:fake0002', true, 1]]);
  });
});

describe('recount (observe again through the record a previous observe returned)', () => {
  const counts = (t: ReturnType<typeof setup>) => t.all().map((e) => `${e.access.host} ${e.agentVerdict} ${e.count}`);

  it('counts on the record while it holds: same events as observe, no decision made', async () => {
    const t = setup({ allowHosts: ['api.stripe.com'] });
    t.core.beginInvocation();
    const rec = t.core.observe(stripe);
    const decided = t.policy!.calls;
    for (let i = 0; i < 9; i++) expect(t.core.recount(rec)).toBe(true);
    expect(t.policy!.calls).toBe(decided);
    expect(t.core.stats.observed).toBe(10);
    await t.core.endInvocation();
    expect(counts(t)).toEqual(['api.stripe.com allow 10']);
  });

  it('refuses (counts nothing) once the record no longer holds: TTL, policy swap, re-decision, another agent, dropped', async () => {
    const t = setup({ allowHosts: ['api.stripe.com'] });
    t.core.beginInvocation();
    const rec = t.core.observe(stripe);
    t.advance(61_000);
    expect(t.core.recount(rec)).toBe(false); // past the decision TTL
    const again = t.core.observe(stripe); // re-decided: a new record, the old one is done
    expect(again).not.toBe(rec);
    expect(t.core.recount(rec)).toBe(false);
    expect(t.core.recount(again)).toBe(true);
    t.core.setPolicy(fakePolicy({ denyHosts: ['api.stripe.com'] }));
    expect(t.core.recount(again)).toBe(false); // policy generation changed
    expect(t.core.observe(stripe).verdict).toBe('deny');
    const other = setup({ allowHosts: ['api.stripe.com'] });
    expect(other.core.recount(again)).toBe(false); // not that agent's record
    await t.core.endInvocation();
    // the re-decision kept the verdict, so its repeats continue the same count
    expect(t.all().map((e) => `${e.agentVerdict} ${e.count}`)).toEqual(['allow 3', 'deny 1']);
  });

  it('a record dropped to bound memory is refused, so repeats are never counted where no report reads them', async () => {
    let now = 0;
    const sent: AccessEvent[] = [];
    const core = new AgentCore({ config: configFromEnv(ENV), policy: fakePolicy({ allowHosts: ['api.stripe.com'] }), sink: { send: async (e) => { sent.push(...e); return { sent: e.length, logged: 0 }; } }, clock: () => now, log: () => undefined, maxRecords: 2 });
    core.beginInvocation();
    const rec = core.observe(stripe);
    for (let i = 0; i < 3; i++) core.observe({ kind: 'http', host: `h${i}.example`, port: 443 });
    await core.endInvocation(); // reports everything; more records than the bound: those without repeats are dropped
    now += 1;
    expect(core.recount(rec)).toBe(false);
    core.beginInvocation();
    core.observe(stripe);
    await core.endInvocation();
    expect(sent.filter((e) => e.access.host === 'api.stripe.com').map((e) => e.count)).toEqual([1, 1]);
  });
});
