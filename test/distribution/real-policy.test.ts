import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultBundleLoader } from '../../engine/distribution/bundle-loader';
import { LocalDirectoryStore } from '../../engine/distribution/local-store';
import { createPolicySource } from '../../engine/distribution/policy-source';
import { publishBundle, setKillSwitch } from '../../engine/distribution/publish';
import { createLocalSigner, generateSigningKeyPair } from '../../engine/distribution/signing';
import { bundleKeys } from '../../engine/distribution/store';
import { loadRulesDir, toBundle } from '../../engine/policy';
import { manualClock, tempDir } from './helpers';

/** The whole path with the real policy compiler and the example rules repo the product ships. */
describe('publish → load → decide with the shipped rules', () => {
  const keys = generateSigningKeyPair('ecdsa-p256');
  const signer = createLocalSigner(keys.privateKeyPem);
  const orders = { name: 'orders-api' };
  const paste = { kind: 'http' as const, host: 'pastebin.com', port: 443 };
  const github = { kind: 'http' as const, host: 'api.github.com', port: 443 };

  async function bundleOf(dir: string): Promise<string> {
    return JSON.stringify(toBundle(await loadRulesDir(dir)), null, 2) + '\n';
  }

  it('agents switch to the new version, reject a tampered one, and the kill switch flips them to monitor', async () => {
    const rules = join(tempDir(), 'rules');
    cpSync(join(__dirname, '..', '..', 'rules'), rules, { recursive: true });
    const store = new LocalDirectoryStore(tempDir());
    const clock = manualClock();
    const loadBundle = await defaultBundleLoader();
    const publish = async () => publishBundle({ store, signer, clock, publishedBy: 'ci', bundle: await bundleOf(rules), loadBundle });

    const v1 = await publish();
    const source = createPolicySource({ store, publicKey: keys.publicKeyPem, loadBundle, clock, refreshMs: 0 });
    await source.start();
    const p1 = source.current();
    expect(p1.policyVersion).toBe(v1.policyVersion);
    expect(p1.modeFor('orders-api')).toBe('block');
    expect(p1.decide(orders, paste, clock.now()).verdict).toBe('deny');
    expect(p1.decide(orders, github, clock.now()).verdict).toBe('unlisted');

    // a merged change: orders-api may now call api.github.com
    const file = join(rules, 'functions', 'orders-api.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('allow:\n', 'allow:\n  - id: github-api\n    host: api.github.com\n'));
    const v2 = await publish();
    expect(v2.policyVersion).not.toBe(v1.policyVersion);
    await source.refresh();
    const p2 = source.current();
    expect(p2.policyVersion).toBe(v2.policyVersion);
    expect(p2.decide(orders, github, clock.now())).toMatchObject({ verdict: 'allow', rule: 'github-api' });
    // a decision already holding v1 still decides with v1
    expect(p1.decide(orders, github, clock.now()).verdict).toBe('unlisted');

    // v3 is tampered in the store after signing: agents keep v2
    writeFileSync(file, readFileSync(file, 'utf8').replace('  - id: github-api\n    host: api.github.com\n', ''));
    const v3 = await publish();
    expect(v3.policyVersion).toBe(v1.policyVersion); // content-addressed: same rules, same version
    const bundlePath = join(new URL(store.url).pathname, bundleKeys(v3.policyVersion).bundle);
    writeFileSync(bundlePath, readFileSync(bundlePath, 'utf8').replace('"pastebin.com"', '"pastebin.org"'));
    const outcome = await source.refresh();
    expect(outcome.problems).toEqual([expect.objectContaining({ reason: 'corrupt', keptVersion: v2.policyVersion })]);
    expect(source.current().decide(orders, paste, clock.now()).verdict).toBe('deny');

    await setKillSwitch({ store, signer, clock, engaged: true, reason: 'INC-1', updatedBy: 'oncall' });
    await source.refresh();
    const killed = source.current();
    expect(killed.modeFor('orders-api')).toBe('monitor');
    expect(killed.decide(orders, paste, clock.now()).verdict).toBe('deny');
    // the engine keeps its full policy object (responses etc.) under the kill switch
    expect(killed.normalized).toBe(p2.normalized);
  });
});
