import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultBundleLoader } from '../../engine/distribution/bundle-loader';
import { engineEvaluatorFromEnv, evaluatorFromSource, reportSourceEvents } from '../../engine/distribution/engine-source';
import { LocalDirectoryStore } from '../../engine/distribution/local-store';
import { createPolicySource, type PolicySource } from '../../engine/distribution/policy-source';
import type { WardenPolicy } from '../../engine/policy/compile';
import { publishBundle } from '../../engine/distribution/publish';
import { createLocalSigner, generateSigningKeyPair } from '../../engine/distribution/signing';
import { evaluatorFor, loadEvaluator } from '../../engine/handler/evaluator';
import { createLocalDistribution } from '../../engine/distribution/local';
import { readBundle } from '../../engine/policy';
import { loadRulesDir, toBundle } from '../../engine/policy';
import { manualClock, tempDir } from './helpers';

const keys = generateSigningKeyPair();
const signer = createLocalSigner(keys.privateKeyPem);

const event = (host: string) => ({
  id: '01JD0000000000000000000000', time: '2026-11-23T18:00:00.000Z',
  function: { name: 'orders-api', tags: {} }, access: { kind: 'http', host, port: 443 }, mode: 'block', count: 1,
});

describe('the rules engine on a refreshing policy source', () => {
  it('decides with the version in force, switches after a publish, and logs what happened', async () => {
    const rules = join(tempDir(), 'rules');
    cpSync(join(__dirname, '..', '..', 'rules'), rules, { recursive: true });
    const store = new LocalDirectoryStore(tempDir());
    const clock = manualClock();
    const loadBundle = await defaultBundleLoader();
    const publish = async () => publishBundle({ store, signer, clock, publishedBy: 'ci', bundle: JSON.stringify(toBundle(await loadRulesDir(rules))), loadBundle });
    const logged: string[] = [];
    const log = { info: (m: string) => logged.push(`INFO ${m}`), warn: (m: string) => logged.push(`WARN ${m}`), error: (m: string) => logged.push(`ERROR ${m}`) };

    const v1 = await publish();
    const source = createPolicySource({ store, publicKey: keys.publicKeyPem, loadBundle, clock, refreshMs: 0, onEvent: reportSourceEvents(log) });
    let builds = 0;
    const evaluate = evaluatorFromSource(source, (p) => { builds++; return evaluatorFor(p); });

    const first = await evaluate(event('api.github.com'), clock.now());
    expect(first.decision).toMatchObject({ verdict: 'unlisted', policyVersion: v1.policyVersion });
    await evaluate(event('api.github.com'), clock.now());
    expect(builds).toBe(1);

    const file = join(rules, 'functions', 'orders-api.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('allow:\n', 'allow:\n  - id: github-api\n    host: api.github.com\n'));
    const v2 = await publish();
    await source.refresh();
    const second = await evaluate(event('api.github.com'), clock.now());
    expect(second.decision).toMatchObject({ verdict: 'allow', rule: 'github-api', policyVersion: v2.policyVersion });
    expect(second.detail?.policyVersion).toBe(v2.policyVersion);
    expect(builds).toBe(2);
    expect(logged).toEqual([`INFO policy ${v1.policyVersion} in force`, `INFO policy ${v2.policyVersion} in force`]);
  });

  it('never decides without a policy: evaluations throw (the invocation is retried) until one loads', async () => {
    const store = new LocalDirectoryStore(tempDir());
    const loadBundle = await defaultBundleLoader();
    const source = createPolicySource({ store, publicKey: keys.publicKeyPem, loadBundle, refreshMs: 0 });
    const evaluate = evaluatorFromSource(source, evaluatorFor);
    await expect(evaluate(event('x.example'), 0)).rejects.toThrow(/no verified policy/);
    await publishBundle({ store, signer, clock: manualClock(), publishedBy: 'ci', bundle: JSON.stringify(toBundle(await loadRulesDir(join(__dirname, '..', '..', 'rules')))), loadBundle });
    await expect(evaluate(event('pastebin.com'), 0)).resolves.toMatchObject({ decision: { verdict: 'deny' } });
    source.stop();
  });

  it('from the environment: packaged bundle without a store; with one, the store (packaged until it answers)', async () => {
    const rulesDir = join(__dirname, '..', '..', 'rules');
    const text = JSON.stringify(toBundle(await loadRulesDir(rulesDir)));
    const bundlePath = join(tempDir(), 'policy.json');
    writeFileSync(bundlePath, text);
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const packagedCalls: string[] = [];
    const packaged = (p: string) => { packagedCalls.push(p); return loadEvaluator(p); };
    const plain = engineEvaluatorFromEnv({}, { bundlePath, log: quiet, packaged, build: evaluatorFor });
    expect(packagedCalls).toEqual([bundlePath]);
    const v1 = readBundle(text).policyVersion;
    await expect(plain(event('pastebin.com'), 0)).resolves.toMatchObject({ decision: { verdict: 'deny', policyVersion: v1 } });

    const dir = tempDir();
    const d = createLocalDistribution({ loadBundle: (t) => readBundle(t), clock: manualClock(), dir });
    const counted: string[] = [];
    const env = { WARDEN_POLICY_STORE: dir, WARDEN_POLICY_PUBLIC_KEY: d.publicKeyPem, WARDEN_POLICY_REFRESH_MS: '0' };
    let source: PolicySource<WardenPolicy> | undefined;
    const fromStore = engineEvaluatorFromEnv(env, { bundlePath, log: quiet, count: (n) => counted.push(n), packaged, build: evaluatorFor, onSource: (s) => { source = s; } });
    expect(packagedCalls).toHaveLength(1);
    // nothing published yet: the packaged bundle decides
    await expect(fromStore(event('api.github.com'), 0)).resolves.toMatchObject({ decision: { verdict: 'unlisted', policyVersion: v1 } });
    // the store is read in the background, without holding up the decision (this joins that read)
    await source!.refresh();
    expect(counted).toEqual(['PolicyLoaded', 'PolicyRejected']);
    // once a new version is published, the engine follows the store
    const rules = join(tempDir(), 'rules');
    cpSync(rulesDir, rules, { recursive: true });
    const fnFile = join(rules, 'functions', 'orders-api.yaml');
    writeFileSync(fnFile, readFileSync(fnFile, 'utf8').replace('allow:\n', 'allow:\n  - id: github-api\n    host: api.github.com\n'));
    const v2 = await d.publish(JSON.stringify(toBundle(await loadRulesDir(rules))));
    await source!.refresh();
    const decided = await fromStore(event('api.github.com'), 0);
    expect(decided.decision).toMatchObject({ verdict: 'allow', rule: 'github-api', policyVersion: v2.policyVersion });
  });
});
