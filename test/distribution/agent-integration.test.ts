import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentAgent, install, uninstall } from '../../engine/agent/runtime';
import type { EventSink } from '../../engine/agent/core';
import type { AccessEvent } from '../../engine/events/access-event';
import { createLocalDistribution } from '../../engine/distribution/local';
import { loadRulesDir, readBundle, toBundle } from '../../engine/policy';
import { manualClock, tempDir } from './helpers';

/** The agent on the distribution path: packaged bundle at cold start, then the store, verified. */
describe('agent policy loading with a policy store', () => {
  afterEach(() => uninstall());

  const paste = { kind: 'http' as const, host: 'pastebin.com', port: 443 };
  const github = { kind: 'http' as const, host: 'api.github.com', port: 443 };

  async function until(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 3000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!check()) throw new Error(`gave up waiting for: ${what}`);
  }

  async function setup() {
    const rules = join(tempDir(), 'rules');
    cpSync(join(__dirname, '..', '..', 'rules'), rules, { recursive: true });
    const bundleOf = async () => JSON.stringify(toBundle(await loadRulesDir(rules)));
    const packaged = join(tempDir(), 'policy.json');
    const v1Text = await bundleOf();
    writeFileSync(packaged, v1Text);
    const storeDir = tempDir();
    const clock = manualClock();
    const d = createLocalDistribution({ loadBundle: (t) => readBundle(t), clock, dir: storeDir });
    const v1 = await d.publish(v1Text);
    const sent: AccessEvent[] = [];
    const sink: EventSink = { send: async (events) => { sent.push(...events); return { sent: events.length, logged: 0 }; } };
    const logs: string[] = [];
    const env = {
      AWS_LAMBDA_FUNCTION_NAME: 'orders-api', AWS_REGION: 'us-east-1', WARDEN_ACCOUNT_ID: '123456789012',
      WARDEN_POLICY: packaged, WARDEN_POLICY_STORE: storeDir, WARDEN_POLICY_PUBLIC_KEY: d.publicKeyPem, WARDEN_POLICY_REFRESH_MS: '20',
    };
    const allowGithub = async (via = d) => {
      const file = join(rules, 'functions', 'orders-api.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('allow:\n', 'allow:\n  - id: github-api\n    host: api.github.com\n'));
      return via.publish(await bundleOf());
    };
    return { d, v1, env, sink, sent, logs, allowGithub };
  }

  it('starts on the packaged bundle, switches to a newly published version, and reports each decision with its version', async () => {
    const t = await setup();
    const first = install({ env: t.env, sink: t.sink, captures: [], log: (l) => t.logs.push(l) });
    expect(first.policyVersion).toBe(t.v1.policyVersion);
    expect(first.observe(github)).toMatchObject({ verdict: 'unlisted', blocked: true });

    const v2 = await t.allowGithub();
    await until(() => currentAgent()?.policyVersion === v2.policyVersion, 'the agent to load v2');
    const second = currentAgent()!;
    expect(second.observe(github)).toMatchObject({ verdict: 'allow', rule: 'github-api', blocked: false });
    expect(second.observe(paste)).toMatchObject({ verdict: 'deny', blocked: true });
    await second.flush({ final: true });
    await until(() => t.sent.some((e) => e.policyVersion === t.v1.policyVersion), 'the old agent to deliver its events');
    // every event carries the version its decision was made with
    expect(t.sent.filter((e) => e.access.host === 'api.github.com').map((e) => [e.agentVerdict, e.policyVersion]))
      .toEqual(expect.arrayContaining([['unlisted', t.v1.policyVersion], ['allow', v2.policyVersion]]));
    expect(t.logs.some((l) => l.includes('"event":"policy.loaded"') && l.includes(v2.policyVersion))).toBe(true);
  });

  it('keeps enforcing the last good version when someone without the key publishes', async () => {
    const t = await setup();
    install({ env: t.env, sink: t.sink, captures: [], log: (l) => t.logs.push(l) });
    const attacker = createLocalDistribution({ loadBundle: (x) => readBundle(x), clock: manualClock(), dir: t.env.WARDEN_POLICY_STORE });
    await t.allowGithub(attacker);
    await until(() => t.logs.some((l) => l.includes('"event":"policy.rejected"')), 'a rejection to be logged');
    expect(t.logs.find((l) => l.includes('"event":"policy.rejected"'))).toMatch(/"reason":"bad-signature"/);
    expect(currentAgent()!.policyVersion).toBe(t.v1.policyVersion);
    expect(currentAgent()!.observe(github)).toMatchObject({ verdict: 'unlisted', blocked: true });
  });

  it('the kill switch puts the agent in monitor mode (even with WARDEN_MODE=block) and back', async () => {
    const t = await setup();
    install({ env: { ...t.env, WARDEN_MODE: 'block' }, sink: t.sink, captures: [], log: (l) => t.logs.push(l) });
    expect(currentAgent()!.mode).toBe('block');
    await t.d.killSwitch(true, 'INC-5');
    await until(() => currentAgent()?.mode === 'monitor', 'monitor mode');
    expect(currentAgent()!.observe(paste)).toMatchObject({ verdict: 'deny', blocked: false });
    await t.d.killSwitch(false, 'fixed');
    await until(() => currentAgent()?.mode === 'block', 'block mode again');
    expect(currentAgent()!.observe(paste)).toMatchObject({ verdict: 'deny', blocked: true });
  });

  it('stops refreshing when the agent is uninstalled', async () => {
    const t = await setup();
    install({ env: t.env, sink: t.sink, captures: [], log: (l) => t.logs.push(l) });
    uninstall();
    const plain = install({ env: { ...t.env, WARDEN_POLICY_STORE: '' }, sink: t.sink, captures: [], log: () => undefined });
    await t.allowGithub();
    await new Promise((r) => setTimeout(r, 200));
    expect(currentAgent()).toBe(plain);
    expect(plain.policyVersion).toBe(t.v1.policyVersion);
  });
});
