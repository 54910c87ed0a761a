import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompiledPolicy } from '../policy/types';
import type { ExceptionGrant } from './documents';
import { publishExceptions, type PublishExceptionsResult } from './exceptions';
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
  /** the exceptions signing key (a second key pair, as on AWS: agents trust it for exception documents only). */
  exceptionsSigner: Signer;
  exceptionsPublicKeyPem: string;
  /** signs and writes one function's exceptions document (the active ones of `exceptions`). */
  publishExceptions(functionName: string, exceptions: ExceptionGrant[] | (() => Promise<ExceptionGrant[]>), publishedBy?: string): Promise<PublishExceptionsResult>;
  /** a policy source over this store (one per agent / engine), verifying with this key; `exceptionsFor`: also that function's exceptions. */
  source(opts?: { onEvent?: (e: PolicySourceEvent) => void; refreshMs?: number; initial?: P; exceptionsFor?: string }): PolicySource<P>;
}

export function createLocalDistribution<P extends CompiledPolicy>(opts: { loadBundle: BundleLoader<P>; clock: Clock; dir?: string; keyPair?: GeneratedKeyPair; exceptionsKeyPair?: GeneratedKeyPair }): LocalDistribution<P> {
  const store = new LocalDirectoryStore(opts.dir ?? mkdtempSync(join(tmpdir(), 'warden-store-')));
  const keys = opts.keyPair ?? generateSigningKeyPair();
  const signer = createLocalSigner(keys.privateKeyPem, 'simulation key');
  const exceptionKeys = opts.exceptionsKeyPair ?? generateSigningKeyPair();
  const exceptionsSigner = createLocalSigner(exceptionKeys.privateKeyPem, 'simulation exceptions key');
  return {
    store,
    signer,
    publicKeyPem: keys.publicKeyPem,
    exceptionsSigner,
    exceptionsPublicKeyPem: exceptionKeys.publicKeyPem,
    publishExceptions: (functionName, exceptions, publishedBy = 'simulate') => publishExceptions({
      store, signer: exceptionsSigner, clock: opts.clock, functionName, publishedBy,
      readExceptions: typeof exceptions === 'function' ? exceptions : () => exceptions,
    }),
    publish: (bundle, publishedBy = 'simulate') => publishBundle({ store, signer, clock: opts.clock, bundle, loadBundle: opts.loadBundle, publishedBy }),
    killSwitch: (engaged, reason, updatedBy = 'simulate') => setKillSwitch({ store, signer, clock: opts.clock, engaged, reason, updatedBy }),
    source: (s = {}) => createPolicySource<P>({
      store, publicKey: keys.publicKeyPem, loadBundle: opts.loadBundle, clock: opts.clock,
      refreshMs: s.refreshMs ?? 0, ...(s.onEvent ? { onEvent: s.onEvent } : {}), ...(s.initial ? { initial: s.initial } : {}),
      ...(s.exceptionsFor ? { exceptions: { functionName: s.exceptionsFor, publicKey: exceptionKeys.publicKeyPem } } : {}),
    }),
  };
}
