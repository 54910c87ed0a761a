/**
 * Distribution costs with the 10,000-entry benchmark policy: publishing (sign + upload + read-back
 * check + pointer) to a local store, an agent's first load from the store (pointer + signature
 * verification + bundle compile), a refresh when nothing changed, and `current()` on the hot path.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBundleLoader } from '../../engine/distribution/bundle-loader';
import { LocalDirectoryStore } from '../../engine/distribution/local-store';
import { createPolicySource } from '../../engine/distribution/policy-source';
import { publishBundle } from '../../engine/distribution/publish';
import { createLocalSigner, createVerifier, generateSigningKeyPair, sha256Hex } from '../../engine/distribution/signing';
import { toBundle } from '../../engine/policy';
import { buildFixture } from './decide-fixture';
import type { BenchOptions } from './main';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function bench(opts: BenchOptions): Promise<Record<string, number | string | boolean>> {
  const runs = opts.quick ? 3 : 7;
  const fixture = buildFixture();
  const text = JSON.stringify(toBundle(fixture.repo));
  const loadBundle = await defaultBundleLoader();
  const keys = generateSigningKeyPair('ecdsa-p256');
  const signer = createLocalSigner(keys.privateKeyPem);
  const clock = { now: () => Date.now() };
  opts.log(`  bundle: ${fixture.entries} entries, ${(text.length / 1024).toFixed(0)} KiB`);

  const publishMs: number[] = [];
  const coldLoadMs: number[] = [];
  const refreshMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const store = new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'warden-bench-store-')));
    let t = performance.now();
    await publishBundle({ store, signer, clock, publishedBy: 'bench', bundle: text, loadBundle });
    publishMs.push(performance.now() - t);
    const source = createPolicySource({ store, publicKey: keys.publicKeyPem, loadBundle, clock, refreshMs: 0 });
    t = performance.now();
    await source.start();
    coldLoadMs.push(performance.now() - t);
    t = performance.now();
    await source.refresh();
    refreshMs.push(performance.now() - t);
  }

  const verifier = createVerifier(keys.publicKeyPem);
  const digest = sha256Hex(text);
  const sig = await signer.sign('bundle', digest);
  const verifyUs: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    verifier.verify('bundle', text, sig);
    verifyUs.push((performance.now() - t) * 1000);
  }

  const store = new LocalDirectoryStore(mkdtempSync(join(tmpdir(), 'warden-bench-store-')));
  await publishBundle({ store, signer, clock, publishedBy: 'bench', bundle: text, loadBundle });
  const source = createPolicySource({ store, publicKey: keys.publicKeyPem, loadBundle, clock, refreshMs: 60_000, timers: { setTimeout: () => 0, clearTimeout: () => undefined } });
  await source.start();
  const n = 1_000_000;
  let sink = 0;
  const t = performance.now();
  for (let i = 0; i < n; i++) sink += source.current().policyVersion.length;
  const currentNs = ((performance.now() - t) * 1e6) / n;
  if (sink === 0) throw new Error('unreachable');
  source.stop();

  return {
    'distribution.bundle_kib': Math.round(text.length / 1024),
    'distribution.publish_ms': median(publishMs),
    'distribution.cold_load_ms': median(coldLoadMs),
    'distribution.refresh_unchanged_ms': median(refreshMs),
    'distribution.verify_bundle_us': median(verifyUs),
    'distribution.current_ns': currentNs,
  };
}
