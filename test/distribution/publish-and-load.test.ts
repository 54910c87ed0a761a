import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalDirectoryStore } from '../../engine/distribution/local-store';
import { createPolicySource, type PolicySourceEvent } from '../../engine/distribution/policy-source';
import { publishBundle, rollbackTo, setKillSwitch } from '../../engine/distribution/publish';
import { createLocalSigner, generateSigningKeyPair } from '../../engine/distribution/signing';
import { bundleKeys, POINTER_KEY } from '../../engine/distribution/store';
import { ConcurrentUpdateError, DistributionError, PolicyUnavailableError } from '../../engine/distribution/errors';
import { httpAccess, loadTestBundle, makeBundle, manualClock, tempDir } from './helpers';

const keys = generateSigningKeyPair();
const signer = createLocalSigner(keys.privateKeyPem, 'test key');
const v1 = makeBundle({ deny: ['evil.example'], mode: 'block' });
const v2 = makeBundle({ deny: ['evil.example', 'paste.example'], mode: 'block' });
const fn = { name: 'orders-api' };

function setup() {
  const dir = tempDir();
  const store = new LocalDirectoryStore(dir);
  const clock = manualClock();
  const events: PolicySourceEvent[] = [];
  const publish = (bundle: string, extra: Partial<Parameters<typeof publishBundle>[0]> = {}) =>
    publishBundle({ store, signer, clock, publishedBy: 'ci', bundle, loadBundle: loadTestBundle, ...extra });
  const source = createPolicySource({
    store, publicKey: keys.publicKeyPem, loadBundle: loadTestBundle, clock, refreshMs: 0,
    onEvent: (e) => events.push(e),
  });
  return { dir, store, clock, events, publish, source, rejected: () => events.filter((e) => e.type === 'rejected') };
}

describe('publish → load → decide', () => {
  it('publishes content-addressed with a signature, moves the pointer, and agents decide with that version', async () => {
    const { dir, publish, source, events } = setup();
    const r1 = await publish(v1.text);
    expect(r1).toMatchObject({ policyVersion: v1.policyVersion, sequence: 1, previous: null, unchanged: false });
    const k = bundleKeys(v1.policyVersion);
    expect(readFileSync(join(dir, k.bundle), 'utf8')).toBe(v1.text);
    expect(JSON.parse(readFileSync(join(dir, k.signature), 'utf8'))).toMatchObject({ kind: 'bundle', policyVersion: v1.policyVersion });

    const snap = await source.start();
    expect(snap).toMatchObject({ policyVersion: v1.policyVersion, sequence: 1, from: 'store' });
    expect(source.current().decide(fn, httpAccess('paste.example'), 0).verdict).toBe('allow');

    const r2 = await publish(v2.text);
    expect(r2).toMatchObject({ policyVersion: v2.policyVersion, sequence: 2, previous: v1.policyVersion });
    const outcome = await source.refresh();
    expect(outcome).toMatchObject({ changed: true, policyVersion: v2.policyVersion, problems: [] });
    const policy = source.current();
    expect(policy.policyVersion).toBe(v2.policyVersion);
    expect(policy.decide(fn, httpAccess('paste.example'), 0)).toMatchObject({ verdict: 'deny', rule: 'deny-paste.example' });
    expect(events.filter((e) => e.type === 'loaded').map((e) => e.type === 'loaded' && e.policyVersion)).toEqual([v1.policyVersion, v2.policyVersion]);
    source.stop();
  });

  it('is idempotent: re-publishing the current bundle moves nothing', async () => {
    const { publish } = setup();
    await publish(v1.text);
    await expect(publish(v1.text)).resolves.toMatchObject({ sequence: 1, unchanged: true });
    await expect(publish(v1.text, { force: true })).resolves.toMatchObject({ sequence: 2, unchanged: false });
  });

  it('refuses to publish a bundle that does not load, leaving the pointer alone', async () => {
    const { publish, store } = setup();
    await publish(v1.text);
    const before = await store.get(POINTER_KEY);
    await expect(publish('{"format":"nope"}')).rejects.toThrow(/does not load, so it was not published/);
    expect((await store.get(POINTER_KEY))?.etag).toBe(before?.etag);
  });

  it('refuses to publish with a key the agents do not trust', async () => {
    const { publish, store } = setup();
    const agentsTrust = generateSigningKeyPair().publicKeyPem;
    await expect(publish(v1.text, { trustedPublicKeys: agentsTrust })).rejects.toThrow(/not trusted/);
    expect(await store.get(POINTER_KEY)).toBeUndefined();
  });

  it('detects a concurrent pointer move instead of overwriting it', async () => {
    const { store, clock } = setup();
    await publishBundle({ store, signer, clock, publishedBy: 'a', bundle: v1.text, loadBundle: loadTestBundle });
    const racing = Object.create(store) as LocalDirectoryStore;
    let moved = false;
    racing.put = async (key, body, opts) => {
      if (key === POINTER_KEY && !moved) {
        moved = true;
        await store.put(POINTER_KEY, Buffer.from('{"someone":"else"}'));
      }
      return store.put(key, body, opts);
    };
    await expect(publishBundle({ store: racing, signer, clock, publishedBy: 'b', bundle: v2.text, loadBundle: loadTestBundle }))
      .rejects.toThrow(ConcurrentUpdateError);
  });
});

describe('a bad new version never replaces the last good one', () => {
  async function withV1Loaded() {
    const ctx = setup();
    await ctx.publish(v1.text);
    await ctx.source.start();
    return ctx;
  }

  it('tampered bundle bytes: rejected as corrupt, v1 keeps enforcing', async () => {
    const ctx = await withV1Loaded();
    await ctx.publish(v2.text);
    const file = join(ctx.dir, bundleKeys(v2.policyVersion).bundle);
    writeFileSync(file, readFileSync(file, 'utf8').replace('paste.example', 'pastx.example'));
    const outcome = await ctx.source.refresh();
    expect(outcome.changed).toBe(false);
    expect(outcome.problems).toEqual([expect.objectContaining({ what: 'bundle', reason: 'corrupt', keptVersion: v1.policyVersion, policyVersion: v2.policyVersion })]);
    expect(ctx.source.version).toBe(v1.policyVersion);
    expect(ctx.source.current().decide(fn, httpAccess('evil.example'), 0).verdict).toBe('deny');
  });

  it('bundle and pointer rewritten consistently by someone without the key: bad signature', async () => {
    const ctx = await withV1Loaded();
    const attacker = createLocalSigner(generateSigningKeyPair().privateKeyPem);
    const evil = makeBundle({ deny: [], mode: 'monitor' });
    await publishBundle({ store: ctx.store, signer: attacker, clock: ctx.clock, publishedBy: 'mallory', bundle: evil.text, loadBundle: loadTestBundle });
    const outcome = await ctx.source.refresh();
    expect(outcome.problems).toEqual([expect.objectContaining({ what: 'pointer', reason: 'bad-signature' })]);
    expect(outcome.problems[0]!.message).toMatch(/not trusted/);
    expect(ctx.source.version).toBe(v1.policyVersion);
  });

  it('signature of the bundle swapped for another one: bad signature', async () => {
    const ctx = await withV1Loaded();
    await ctx.publish(v2.text);
    const k1 = bundleKeys(v1.policyVersion);
    const k2 = bundleKeys(v2.policyVersion);
    const sig1 = JSON.parse(readFileSync(join(ctx.dir, k1.signature), 'utf8'));
    const sig2 = JSON.parse(readFileSync(join(ctx.dir, k2.signature), 'utf8'));
    writeFileSync(join(ctx.dir, k2.signature), JSON.stringify({ ...sig2, signature: sig1.signature }));
    const outcome = await ctx.source.refresh();
    expect(outcome.problems).toEqual([expect.objectContaining({ what: 'bundle', reason: 'bad-signature' })]);
    expect(ctx.source.version).toBe(v1.policyVersion);
  });

  it('unsigned bundle (signature file missing): rejected as unsigned', async () => {
    const ctx = await withV1Loaded();
    await ctx.publish(v2.text);
    rmSync(join(ctx.dir, bundleKeys(v2.policyVersion).signature));
    const outcome = await ctx.source.refresh();
    expect(outcome.problems).toEqual([expect.objectContaining({ reason: 'unsigned', keptVersion: v1.policyVersion })]);
  });

  it('unsigned pointer: rejected as unsigned', async () => {
    const ctx = await withV1Loaded();
    writeFileSync(join(ctx.dir, POINTER_KEY), JSON.stringify({ kind: 'pointer', policyVersion: v2.policyVersion }));
    const outcome = await ctx.source.refresh();
    expect(outcome.problems).toEqual([expect.objectContaining({ what: 'pointer', reason: 'unsigned' })]);
    expect(ctx.source.version).toBe(v1.policyVersion);
  });

  it('corrupt pointer (truncated upload): rejected as corrupt', async () => {
    const ctx = await withV1Loaded();
    writeFileSync(join(ctx.dir, POINTER_KEY), '{"format":"warden.signed/v1","ki');
    const outcome = await ctx.source.refresh();
    expect(outcome.problems).toEqual([expect.objectContaining({ what: 'pointer', reason: 'corrupt' })]);
  });

  it('signed bundle that fails to compile: rejected, reported once per pointer, v1 keeps enforcing', async () => {
    const ctx = await withV1Loaded();
    await ctx.publish(v2.text);
    let calls = 0;
    const failing = createPolicySource({
      store: ctx.store, publicKey: keys.publicKeyPem, refreshMs: 0, clock: ctx.clock, initial: loadTestBundle(v1.text, 'packaged'),
      loadBundle: (text, where) => { calls++; if (text.includes('paste.example')) throw new Error('unknown rule kind'); return loadTestBundle(text, where); },
    });
    const first = await failing.refresh();
    expect(first.problems).toEqual([expect.objectContaining({ reason: 'compile-failed', policyVersion: v2.policyVersion })]);
    expect(first.problems[0]!.message).toMatch(/unknown rule kind/);
    const again = await failing.refresh();
    expect(again.problems).toEqual([expect.objectContaining({ reason: 'compile-failed' })]);
    expect(calls).toBe(1);
    expect(failing.version).toBe(v1.policyVersion);
  });

  it('a bundle that compiles to another version than the pointer names: version-mismatch', async () => {
    const ctx = await withV1Loaded();
    await ctx.publish(v2.text);
    const other = createPolicySource({
      store: ctx.store, publicKey: keys.publicKeyPem, refreshMs: 0, clock: ctx.clock,
      loadBundle: (text, where) => ({ ...loadTestBundle(text, where), policyVersion: 'sha256:0000000000000000' }),
    });
    await expect(other.start()).rejects.toThrow(PolicyUnavailableError);
    expect((await other.refresh()).problems).toEqual([expect.objectContaining({ reason: 'version-mismatch' })]);
  });

  it('a replayed older pointer is refused as a rollback', async () => {
    const ctx = await withV1Loaded();
    const oldPointer = readFileSync(join(ctx.dir, POINTER_KEY));
    await ctx.publish(v2.text);
    await ctx.source.refresh();
    writeFileSync(join(ctx.dir, POINTER_KEY), oldPointer);
    const outcome = await ctx.source.refresh();
    expect(outcome.problems).toEqual([expect.objectContaining({ reason: 'rollback' })]);
    expect(ctx.source.version).toBe(v2.policyVersion);
  });

  it('a damaged pointer is replaced by the next publish with a sequence agents accept', async () => {
    const ctx = await withV1Loaded();
    await ctx.publish(v2.text);
    await ctx.source.refresh();
    writeFileSync(join(ctx.dir, POINTER_KEY), '{"format":"warden.signed/v1","ki');
    expect((await ctx.source.refresh()).problems).toEqual([expect.objectContaining({ reason: 'corrupt' })]);
    const r = await ctx.publish(v1.text);
    expect(r.sequence).toBe(Math.floor(ctx.clock.now() / 1000));
    expect(await ctx.source.refresh()).toMatchObject({ changed: true, policyVersion: v1.policyVersion, problems: [] });
    await expect(ctx.publish(v2.text)).resolves.toMatchObject({ sequence: r.sequence + 1 });
  });

  it('an explicit rollback publishes a new pointer to the older version, which agents accept', async () => {
    const ctx = await withV1Loaded();
    await ctx.publish(v2.text);
    await ctx.source.refresh();
    const r = await rollbackTo({ store: ctx.store, signer, clock: ctx.clock, publishedBy: 'oncall', policyVersion: v1.policyVersion, loadBundle: loadTestBundle });
    expect(r).toMatchObject({ sequence: 3, policyVersion: v1.policyVersion, previous: v2.policyVersion });
    expect(await ctx.source.refresh()).toMatchObject({ changed: true, policyVersion: v1.policyVersion });
    await expect(rollbackTo({ store: ctx.store, signer, clock: ctx.clock, publishedBy: 'x', policyVersion: 'sha256:1111111111111111', loadBundle: loadTestBundle }))
      .rejects.toThrow(/missing: publish that version first/);
  });
});

describe('key rotation', () => {
  it('agents trusting the old and the new key follow a publish signed with the new one; then the old key can be retired', async () => {
    const ctx = setup();
    const next = generateSigningKeyPair('ecdsa-p256');
    const nextSigner = createLocalSigner(next.privateKeyPem);
    await ctx.publish(v1.text);
    const both = createPolicySource({ store: ctx.store, publicKey: keys.publicKeyPem + next.publicKeyPem, loadBundle: loadTestBundle, refreshMs: 0 });
    const oldOnly = createPolicySource({ store: ctx.store, publicKey: keys.publicKeyPem, loadBundle: loadTestBundle, refreshMs: 0 });
    await both.start();
    await oldOnly.start();
    await publishBundle({ store: ctx.store, signer: nextSigner, clock: ctx.clock, publishedBy: 'ci', bundle: v2.text, loadBundle: loadTestBundle, trustedPublicKeys: keys.publicKeyPem + next.publicKeyPem });
    expect(await both.refresh()).toMatchObject({ changed: true, policyVersion: v2.policyVersion });
    expect((await oldOnly.refresh()).problems).toEqual([expect.objectContaining({ reason: 'bad-signature' })]);
    expect(oldOnly.version).toBe(v1.policyVersion);
  });
});

describe('store unavailable', () => {
  it('a missing store keeps the last good bundle and reports it; recovers when the store returns', async () => {
    const ctx = setup();
    await ctx.publish(v1.text);
    await ctx.source.start();
    const moved = `${ctx.dir}-away`;
    (await import('node:fs')).renameSync(ctx.dir, moved);
    const outcome = await ctx.source.refresh();
    expect(outcome.problems).toEqual([expect.objectContaining({ what: 'pointer', reason: 'missing', keptVersion: v1.policyVersion })]);
    expect(ctx.source.current().decide(fn, httpAccess('evil.example'), 0).verdict).toBe('deny');
    (await import('node:fs')).renameSync(moved, ctx.dir);
    await ctx.publish(v2.text);
    expect(await ctx.source.refresh()).toMatchObject({ changed: true, policyVersion: v2.policyVersion });
  });

  it('a store that errors is reported as unreachable, and retried on the next refresh', async () => {
    const ctx = setup();
    await ctx.publish(v1.text);
    let failing = false;
    const flaky = Object.create(ctx.store) as LocalDirectoryStore;
    flaky.get = async (key) => {
      if (failing) throw new (await import('../../engine/distribution/errors')).StoreError('connect ETIMEDOUT');
      return ctx.store.get(key);
    };
    const source = createPolicySource({ store: flaky, publicKey: keys.publicKeyPem, loadBundle: loadTestBundle, refreshMs: 0 });
    await source.start();
    failing = true;
    await ctx.publish(v2.text);
    expect((await source.refresh()).problems.map((p) => p.reason)).toEqual(['store-unreachable', 'store-unreachable']);
    failing = false;
    expect(await source.refresh()).toMatchObject({ changed: true, policyVersion: v2.policyVersion });
  });

  it('never runs without a policy: no store and no packaged policy → start rejects and current() throws', async () => {
    const ctx = setup();
    await expect(ctx.source.start()).rejects.toThrow(PolicyUnavailableError);
    expect(() => ctx.source.current()).toThrow(/no verified policy is loaded/);
    expect(ctx.rejected()).toEqual([expect.objectContaining({ reason: 'missing', keptVersion: null })]);
    ctx.source.stop();
  });

  it('uses the packaged policy until the store answers', async () => {
    const ctx = setup();
    const source = createPolicySource({
      store: ctx.store, publicKey: keys.publicKeyPem, loadBundle: loadTestBundle, refreshMs: 0,
      initial: loadTestBundle(v1.text, 'packaged'), onEvent: (e) => ctx.events.push(e),
    });
    await expect(source.start()).resolves.toMatchObject({ policyVersion: v1.policyVersion, from: 'initial', sequence: null });
    await ctx.publish(v2.text);
    expect(await source.refresh()).toMatchObject({ changed: true, policyVersion: v2.policyVersion });
    expect(source.snapshot().from).toBe('store');
  });

  it('does not download the bundle again when the packaged policy is already the current version', async () => {
    const ctx = setup();
    await ctx.publish(v1.text);
    const keysRead: string[] = [];
    const counting = Object.create(ctx.store) as LocalDirectoryStore;
    counting.get = (key) => { keysRead.push(key); return ctx.store.get(key); };
    const source = createPolicySource({ store: counting, publicKey: keys.publicKeyPem, loadBundle: loadTestBundle, refreshMs: 0, initial: loadTestBundle(v1.text, 'packaged') });
    await expect(source.start()).resolves.toMatchObject({ policyVersion: v1.policyVersion, from: 'store', sequence: 1 });
    expect(keysRead).toEqual(['control.json', 'current.json']);
  });

  it('rejects a source without a trusted key', () => {
    const ctx = setup();
    expect(() => createPolicySource({ store: ctx.store, loadBundle: loadTestBundle })).toThrow(DistributionError);
  });
});

describe('refresh under load', () => {
  it('changes no in-flight decision: each decision uses the snapshot it started with', async () => {
    const ctx = setup();
    await ctx.publish(v1.text);
    await ctx.source.start();
    await ctx.publish(v2.text);
    // 200 concurrent "requests": each takes the policy once, awaits I/O, then decides with it.
    const results: Array<{ started: string; decidedWith: string; verdict: string }> = [];
    const inflight = Array.from({ length: 200 }, async (_, i) => {
      if (i % 2) await new Promise((r) => setImmediate(r));
      const policy = ctx.source.current();
      const started = policy.policyVersion;
      await new Promise((r) => setImmediate(r));
      const verdict = policy.decide(fn, httpAccess('paste.example'), 0).verdict;
      results.push({ started, decidedWith: policy.policyVersion, verdict });
    });
    const refreshing = ctx.source.refresh();
    await Promise.all([...inflight, refreshing]);
    expect(results).toHaveLength(200);
    for (const r of results) {
      expect(r.decidedWith).toBe(r.started);
      expect(r.verdict).toBe(r.started === v1.policyVersion ? 'allow' : 'deny');
    }
    expect(ctx.source.version).toBe(v2.policyVersion);
  });

  it('coalesces concurrent refreshes into one', async () => {
    const ctx = setup();
    await ctx.publish(v1.text);
    let gets = 0;
    const counting = Object.create(ctx.store) as LocalDirectoryStore;
    counting.get = (key) => { gets++; return ctx.store.get(key); };
    const source = createPolicySource({ store: counting, publicKey: keys.publicKeyPem, loadBundle: loadTestBundle, refreshMs: 0 });
    const [a, b] = [source.refresh(), source.refresh()];
    expect(a).toBe(b);
    await a;
    expect(gets).toBe(4); // control, pointer, bundle, signature
  });
});

describe('background refresh', () => {
  it('refreshes on the interval with injected timers, and stop() cancels it', async () => {
    const ctx = setup();
    await ctx.publish(v1.text);
    const pending: Array<() => void> = [];
    const timers = { setTimeout: (fn: () => void) => { pending.push(fn); return pending.length; }, clearTimeout: jest.fn() };
    const source = createPolicySource({ store: ctx.store, publicKey: keys.publicKeyPem, loadBundle: loadTestBundle, refreshMs: 60_000, timers, clock: ctx.clock });
    await source.start();
    expect(pending).toHaveLength(1);
    await ctx.publish(v2.text);
    const loaded = new Promise<void>((resolve) => {
      const check = () => (source.version === v2.policyVersion ? resolve() : setImmediate(check));
      check();
    });
    pending.shift()!();
    await loaded;
    expect(source.version).toBe(v2.policyVersion);
    source.stop();
    expect(timers.clearTimeout).toHaveBeenCalled();
  });

  it('refreshes on use once the policy is older than the interval (Lambda freezes timers)', async () => {
    const ctx = setup();
    await ctx.publish(v1.text);
    const timers = { setTimeout: () => 0, clearTimeout: () => undefined };
    const source = createPolicySource({ store: ctx.store, publicKey: keys.publicKeyPem, loadBundle: loadTestBundle, refreshMs: 60_000, timers, clock: ctx.clock });
    await source.start();
    await ctx.publish(v2.text);
    ctx.clock.advance(59_000);
    expect(source.current().policyVersion).toBe(v1.policyVersion);
    await new Promise((r) => setTimeout(r, 20));
    expect(source.version).toBe(v1.policyVersion);
    ctx.clock.advance(1_000);
    expect(source.current().policyVersion).toBe(v1.policyVersion); // this call starts the refresh…
    await source.refresh(); // …which this joins
    expect(source.current().policyVersion).toBe(v2.policyVersion);
  });
});

describe('kill switch', () => {
  it('puts every function in monitor mode without a new bundle, and back', async () => {
    const ctx = setup();
    await ctx.publish(v1.text);
    await ctx.source.start();
    expect(ctx.source.current().modeFor('orders-api')).toBe('block');

    const on = await setKillSwitch({ store: ctx.store, signer, clock: ctx.clock, engaged: true, reason: 'INC-42 false positives', updatedBy: 'oncall' });
    expect(on).toMatchObject({ sequence: 1, changed: true });
    await ctx.source.refresh();
    const snap = ctx.source.snapshot();
    expect(snap.killSwitch).toEqual({ engaged: true, reason: 'INC-42 false positives' });
    expect(snap.policy.modeFor('orders-api')).toBe('monitor');
    expect(snap.policy.modeFor('anything-else')).toBe('monitor');
    // decisions and version are unchanged: only enforcement relaxes
    expect(snap.policyVersion).toBe(v1.policyVersion);
    expect(snap.policy.decide(fn, httpAccess('evil.example'), 0).verdict).toBe('deny');
    // survives a new bundle
    await ctx.publish(v2.text);
    await ctx.source.refresh();
    expect(ctx.source.current().policyVersion).toBe(v2.policyVersion);
    expect(ctx.source.current().modeFor('orders-api')).toBe('monitor');

    await setKillSwitch({ store: ctx.store, signer, clock: ctx.clock, engaged: false, reason: 'fixed', updatedBy: 'oncall' });
    await ctx.source.refresh();
    expect(ctx.source.current().modeFor('orders-api')).toBe('block');
    expect(ctx.events.filter((e) => e.type === 'kill-switch')).toEqual([
      expect.objectContaining({ engaged: true, reason: 'INC-42 false positives', sequence: 1, updatedBy: 'oncall' }),
      expect.objectContaining({ engaged: false, sequence: 2 }),
    ]);
  });

  it('ignores a forged or replayed control document and keeps enforcing', async () => {
    const ctx = setup();
    await ctx.publish(v1.text);
    await ctx.source.start();
    await setKillSwitch({ store: ctx.store, signer, clock: ctx.clock, engaged: true, reason: 'test', updatedBy: 'a' });
    const engagedDoc = readFileSync(join(ctx.dir, 'control.json'));
    await setKillSwitch({ store: ctx.store, signer, clock: ctx.clock, engaged: false, reason: 'done', updatedBy: 'a' });
    await ctx.source.refresh();
    writeFileSync(join(ctx.dir, 'control.json'), engagedDoc);
    expect((await ctx.source.refresh()).problems).toEqual([expect.objectContaining({ what: 'control', reason: 'rollback' })]);
    expect(ctx.source.current().modeFor('orders-api')).toBe('block');

    const attacker = createLocalSigner(generateSigningKeyPair().privateKeyPem);
    rmSync(join(ctx.dir, 'control.json'));
    await setKillSwitch({ store: ctx.store, signer: attacker, clock: ctx.clock, engaged: true, reason: 'forged', updatedBy: 'mallory' });
    expect((await ctx.source.refresh()).problems).toEqual([expect.objectContaining({ what: 'control', reason: 'bad-signature' })]);
    expect(ctx.source.current().modeFor('orders-api')).toBe('block');
  });

  it('needs a reason to engage, and is idempotent', async () => {
    const ctx = setup();
    await expect(setKillSwitch({ store: ctx.store, signer, clock: ctx.clock, engaged: true, reason: ' ', updatedBy: 'a' })).rejects.toThrow(/needs a reason/);
    await setKillSwitch({ store: ctx.store, signer, clock: ctx.clock, engaged: true, reason: 'r', updatedBy: 'a' });
    await expect(setKillSwitch({ store: ctx.store, signer, clock: ctx.clock, engaged: true, reason: 'r', updatedBy: 'a' })).resolves.toMatchObject({ changed: false, sequence: 1 });
  });
});

describe('local distribution (what warden simulate uses)', () => {
  it('publishes, serves several sources, and flips the kill switch', async () => {
    const { createLocalDistribution } = await import('../../engine/distribution/local');
    const clock = manualClock();
    const d = createLocalDistribution({ loadBundle: loadTestBundle, clock, dir: tempDir() });
    await d.publish(v1.text);
    const agentA = d.source();
    const engine = d.source();
    await Promise.all([agentA.start(), engine.start()]);
    await d.publish(v2.text);
    await d.killSwitch(true, 'drill');
    await Promise.all([agentA.refresh(), engine.refresh()]);
    expect([agentA.version, engine.version]).toEqual([v2.policyVersion, v2.policyVersion]);
    expect(agentA.current().modeFor('orders-api')).toBe('monitor');
  });
});
