import { configFromEnv } from '../../engine/agent/config';
import { AgentCore, type EventSink } from '../../engine/agent/core';
import type { Access, AccessEvent } from '../../engine/events/access-event';
import { exceptionLookup, type ExceptionLookup } from '../../engine/handler/exception-match';
import type { CompiledPolicy } from '../../engine/policy/types';

const NOW = Date.UTC(2026, 10, 23, 18, 0, 0);
const paste: Access = { kind: 'http', host: 'pastebin.com', port: 443 };
const partner: Access = { kind: 'http', host: 'api.partner.example', port: 443 };
const stripe: Access = { kind: 'http', host: 'api.stripe.com', port: 443 };

/** block-mode policy: pastebin denied, stripe allowed, everything else unlisted */
const policy: CompiledPolicy = {
  policyVersion: 'sha256:00000000000000000000000000000001',
  modeFor: () => 'block',
  decide: (_fn, a) => (a.host === 'pastebin.com'
    ? { verdict: 'deny', rule: 'paste-pastebin', severity: 'critical' }
    : a.host === 'api.stripe.com' ? { verdict: 'allow', rule: 'stripe-api', severity: 'info' } : { verdict: 'unlisted', rule: null, severity: 'medium' }),
};

function agent(exceptions: () => ExceptionLookup | undefined, ttl = 60_000) {
  let now = NOW;
  const sent: AccessEvent[] = [];
  const sink: EventSink = { send: async (events) => { sent.push(...events); return { sent: events.length, logged: 0 }; } };
  const core = new AgentCore({
    config: configFromEnv({ WARDEN_FUNCTION_NAME: 'payments-worker', AWS_REGION: 'us-east-1' }),
    policy, sink, clock: () => now, log: () => undefined, decisionTtlMs: ttl, exceptions,
  });
  return { core, sent, advance: (ms: number) => { now += ms; }, now: () => now };
}

const grant = (id: string, access: Access, untilMs: number) => ({ exceptionId: id, access, expiresAt: new Date(untilMs).toISOString() });

/** The agent's side of approved exceptions: consulted on `unlisted` only, exactly, until expiry. */
describe('agent decisions with approved exceptions', () => {
  it('an exception turns exactly that unlisted access into allow, with the rule the engine stamps', () => {
    const t = agent(() => exceptionLookup([grant('exc_1', partner, NOW + 60_000)]));
    expect(t.core.observe(partner)).toMatchObject({ verdict: 'allow', rule: 'exception:exc_1', severity: 'info', blocked: false });
    expect(t.core.observe({ ...partner, port: 8443 })).toMatchObject({ verdict: 'unlisted', blocked: true });
    expect(t.core.observe({ kind: 'http', host: 'x.api.partner.example', port: 443 })).toMatchObject({ verdict: 'unlisted', blocked: true });
  });

  it('deny always wins: an exception for a denied access changes nothing, and is not even consulted', () => {
    let asked = 0;
    const lookup = exceptionLookup([grant('exc_p', paste, NOW + 60_000), grant('exc_s', stripe, NOW + 60_000)]);
    const t = agent(() => { asked++; return lookup; });
    expect(t.core.observe(paste)).toMatchObject({ verdict: 'deny', rule: 'paste-pastebin', blocked: true });
    // an allow stays the rules' allow (the rule that allowed it is reported, not the exception)
    expect(t.core.observe(stripe)).toMatchObject({ verdict: 'allow', rule: 'stripe-api' });
    expect(asked).toBe(0);
  });

  it('stops allowing at expiresAt on the agent clock, even though the decision is cached for longer', () => {
    const t = agent(() => exceptionLookup([grant('exc_1', partner, NOW + 5_000)]), 60_000);
    expect(t.core.observe(partner)).toMatchObject({ verdict: 'allow', blocked: false });
    t.advance(4_999);
    expect(t.core.observe(partner)).toMatchObject({ verdict: 'allow', blocked: false });
    t.advance(1);
    expect(t.core.observe(partner)).toMatchObject({ verdict: 'unlisted', rule: null, blocked: true });
  });

  it('a new exception set applies from the next policy hand-over (setPolicy re-decides every access)', () => {
    let lookup: ExceptionLookup | undefined;
    const t = agent(() => lookup);
    expect(t.core.observe(partner)).toMatchObject({ verdict: 'unlisted', blocked: true });
    lookup = exceptionLookup([grant('exc_1', partner, NOW + 60_000)]);
    t.core.setPolicy(policy);
    expect(t.core.observe(partner)).toMatchObject({ verdict: 'allow', rule: 'exception:exc_1' });
    lookup = undefined; // revoked: the next document no longer holds it
    t.core.setPolicy(policy);
    expect(t.core.observe(partner)).toMatchObject({ verdict: 'unlisted', blocked: true });
  });

  it('reports the excepted access as allowed (the blocked one before it as unlisted)', async () => {
    const held: { lookup?: ExceptionLookup } = {};
    const t = agent(() => held.lookup);
    t.core.observe(partner);
    await t.core.flush();
    held.lookup = exceptionLookup([grant('exc_1', partner, NOW + 60_000)]);
    t.core.setPolicy(policy);
    t.core.observe(partner);
    await t.core.flush();
    expect(t.sent.map((e) => [e.agentVerdict, e.blocked])).toEqual([['unlisted', true], ['allow', false]]);
  });
});
