import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configFromEnv } from '../../engine/agent/config';
import { currentAgent, install, uninstall } from '../../engine/agent/runtime';
import { publishExceptions } from '../../engine/distribution/exceptions';
import { createLocalDistribution } from '../../engine/distribution/local';
import { loadRulesDir, readBundle, toBundle } from '../../engine/policy';
import { tempDir } from './helpers';
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

/** End to end in block mode: packaged bundle + local signed store; the agent's source fetches its exceptions document. */
describe('agent in block mode with a policy store: an approved exception published to the store unblocks exactly that access', () => {
  afterEach(() => uninstall());

  const github: Access = { kind: 'http', host: 'api.github.com', port: 443 };

  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 3000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!check()) throw new Error(`gave up waiting for: ${what}`);
  }

  async function setup(opts: { trustExceptions?: boolean } = {}) {
    const bundleText = JSON.stringify(toBundle(await loadRulesDir(join(__dirname, '..', '..', 'rules'))));
    const packaged = join(tempDir(), 'policy.json');
    writeFileSync(packaged, bundleText);
    let now = Date.UTC(2026, 10, 23, 18, 0, 0);
    const clock = { now: () => now };
    const d = createLocalDistribution({ loadBundle: (t) => readBundle(t), clock, dir: tempDir() });
    await d.publish(bundleText);
    const logs: string[] = [];
    const sink: EventSink = { send: async (events) => ({ sent: events.length, logged: 0 }) };
    const env: Record<string, string> = {
      AWS_LAMBDA_FUNCTION_NAME: 'orders-api', AWS_REGION: 'us-east-1', WARDEN_POLICY: packaged,
      WARDEN_POLICY_STORE: d.store.url, WARDEN_POLICY_PUBLIC_KEY: d.publicKeyPem, WARDEN_POLICY_REFRESH_MS: '20',
      ...(opts.trustExceptions === false ? {} : { WARDEN_EXCEPTIONS_PUBLIC_KEY: d.exceptionsPublicKeyPem }),
    };
    const agent = install({ env, sink, captures: [], log: (l) => logs.push(l), clock: () => now });
    const grant = (id: string, access: Access, ttlMs: number) => ({ exceptionId: id, approvalId: `apr_${id}`, access, expiresAt: new Date(now + ttlMs).toISOString() });
    return { d, agent, logs, grant, advance: (ms: number) => { now += ms; } };
  }

  it('blocked as unlisted, then allowed as exception:<id> after the publish; deny still wins; blocked again at expiry', async () => {
    const t = await setup();
    expect(t.agent.mode).toBe('block');
    expect(t.agent.observe(github)).toMatchObject({ verdict: 'unlisted', blocked: true });
    const paste: Access = { kind: 'http', host: 'pastebin.com', port: 443 };
    await t.d.publishExceptions('orders-api', [t.grant('exc_gh', github, 60_000), t.grant('exc_paste', paste, 60_000)]);
    await until(() => t.logs.some((l) => l.includes('"event":"policy.exceptions"')), 'the agent to load the exceptions');
    await until(() => currentAgent()!.observe(github).verdict === 'allow', 'the agent to re-decide');
    expect(currentAgent()!.observe(github)).toMatchObject({ verdict: 'allow', rule: 'exception:exc_gh', blocked: false });
    expect(currentAgent()!.observe({ ...github, port: 8443 })).toMatchObject({ verdict: 'unlisted', blocked: true });
    expect(currentAgent()!.observe(paste)).toMatchObject({ verdict: 'deny', blocked: true });
    t.advance(60_000);
    expect(currentAgent()!.observe(github)).toMatchObject({ verdict: 'unlisted', blocked: true });
  });

  it('an exceptions document signed with the policy key is refused and reported; nothing is unblocked', async () => {
    const t = await setup();
    await publishExceptions({ store: t.d.store, signer: t.d.signer, clock: { now: () => Date.UTC(2026, 10, 23, 18, 0, 0) }, functionName: 'orders-api', publishedBy: 'x', readExceptions: () => [t.grant('exc_gh', github, 60_000)] });
    await until(() => t.logs.some((l) => l.includes('"what":"exceptions"')), 'the rejection to be logged');
    expect(t.logs.find((l) => l.includes('"what":"exceptions"'))).toMatch(/"reason":"bad-signature"/);
    expect(currentAgent()!.observe(github)).toMatchObject({ verdict: 'unlisted', blocked: true });
  });

  it('without WARDEN_EXCEPTIONS_PUBLIC_KEY the agent does not fetch exceptions', async () => {
    const t = await setup({ trustExceptions: false });
    await t.d.publishExceptions('orders-api', [t.grant('exc_gh', github, 60_000)]);
    await new Promise((r) => setTimeout(r, 150));
    expect(t.logs.some((l) => l.includes('exceptions'))).toBe(false);
    expect(currentAgent()!.observe(github)).toMatchObject({ verdict: 'unlisted', blocked: true });
  });
});

describe('agent exceptions configuration', () => {
  it('a bad WARDEN_EXCEPTIONS_PUBLIC_KEY disables exceptions only (logged); the store still verifies and loads the policy', async () => {
    const { startAgentPolicyRefresh } = await import('../../engine/distribution/agent-refresh');
    const d = createLocalDistribution({ loadBundle: (t) => readBundle(t), clock: { now: () => NOW }, dir: tempDir() });
    const v1 = await d.publish(JSON.stringify(toBundle(await loadRulesDir(join(__dirname, '..', '..', 'rules')))));
    const logs: string[] = [];
    const source = await startAgentPolicyRefresh({
      env: { WARDEN_POLICY_STORE: d.store.url, WARDEN_POLICY_PUBLIC_KEY: d.publicKeyPem, WARDEN_POLICY_REFRESH_MS: '0', WARDEN_EXCEPTIONS_PUBLIC_KEY: '-----BEGIN PRIVATE KEY-----\nMC4=\n-----END PRIVATE KEY-----' },
      functionName: 'orders-api', loadBundle: (t) => readBundle(t), log: (l) => logs.push(l), onUpdate: () => undefined, clock: { now: () => NOW },
    });
    expect(source?.version).toBe(v1.policyVersion);
    expect(source?.exceptions().size).toBe(0);
    expect(logs.find((l) => l.includes('policy.exceptions-disabled'))).toMatch(/"level":"ERROR".*private key was given/);
    source?.stop();
  });
});
