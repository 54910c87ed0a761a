import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompiledPolicy } from '../policy/types';
import { LocalDirectoryStore } from './local-store';
import { createPolicySource, type BundleLoader, type Clock, type PolicySource, type PolicySourceEvent } from './policy-source';
import { publishBundle, setKillSwitch, type KillSwitchResult, type PublishResult } from './publish';
import { createLocalSigner, generateSigningKeyPair, type GeneratedKeyPair, type Signer } from './signing';

/**
 * The distribution path in one process, for `warden simulate` and tests: a local directory
 * store, a fresh key pair, and the same publish / verify / refresh code that runs on AWS.
 */
export interface LocalDistribution<P extends CompiledPolicy> {
  store: LocalDirectoryStore;
  signer: Signer;
  publicKeyPem: string;
  publish(bundle: string | Uint8Array, publishedBy?: string): Promise<PublishResult>;
  killSwitch(engaged: boolean, reason: string, updatedBy?: string): Promise<KillSwitchResult>;
  /** a policy source over this store (one per agent / engine), verifying with this key. */
  source(opts?: { onEvent?: (e: PolicySourceEvent) => void; refreshMs?: number; initial?: P }): PolicySource<P>;
}

export function createLocalDistribution<P extends CompiledPolicy>(opts: { loadBundle: BundleLoader<P>; clock: Clock; dir?: string; keyPair?: GeneratedKeyPair }): LocalDistribution<P> {
  const store = new LocalDirectoryStore(opts.dir ?? mkdtempSync(join(tmpdir(), 'warden-store-')));
  const keys = opts.keyPair ?? generateSigningKeyPair();
  const signer = createLocalSigner(keys.privateKeyPem, 'simulation key');
  return {
    store,
    signer,
    publicKeyPem: keys.publicKeyPem,
    publish: (bundle, publishedBy = 'simulate') => publishBundle({ store, signer, clock: opts.clock, bundle, loadBundle: opts.loadBundle, publishedBy }),
    killSwitch: (engaged, reason, updatedBy = 'simulate') => setKillSwitch({ store, signer, clock: opts.clock, engaged, reason, updatedBy }),
    source: (s = {}) => createPolicySource<P>({
      store, publicKey: keys.publicKeyPem, loadBundle: opts.loadBundle, clock: opts.clock,
      refreshMs: s.refreshMs ?? 0, ...(s.onEvent ? { onEvent: s.onEvent } : {}), ...(s.initial ? { initial: s.initial } : {}),
    }),
  };
}
