import {
  ControlSchema, encodeSigned, parseBundleSignatureFile, parseJson, PointerSchema, SignedEnvelopeSchema,
  type BundleSignatureFile, type Control, type KillSwitch, type Pointer, type SourceInfo,
} from './documents';
import { ConcurrentUpdateError, DistributionError, DocumentError } from './errors';
import type { BundleLoader, Clock } from './policy-source';
import { createVerifier, sha256Hex, type Signer, type Verifier } from './signing';
import { bundleKeys, CONTROL_KEY, POINTER_KEY, type PolicyStore, type StoredObject } from './store';

/**
 * Publishing: upload a bundle content-addressed by its policyVersion with its signature, check
 * what landed, and only then move the signed `current.json` pointer (conditionally, so two
 * concurrent publishes cannot silently overwrite each other). Also: rollback and the kill switch.
 */

export interface PublishResult {
  store: string;
  policyVersion: string;
  /** pointer sequence now in force. */
  sequence: number;
  previous: string | null;
  bundleKey: string;
  signatureKey: string;
  sha256: string;
  bytes: number;
  /** true when the pointer already named this exact bundle: nothing was moved. */
  unchanged: boolean;
}

interface Common {
  store: PolicyStore;
  signer: Signer;
  clock: Clock;
  /** who publishes (CI job, user): recorded in the signed pointer. */
  publishedBy: string;
  /** keys the agents trust; the upload is checked against them so a key they would reject fails here. Default: the signer's key. */
  trustedPublicKeys?: Parameters<typeof createVerifier>[0];
}

export interface PublishOptions extends Common {
  bundle: string | Uint8Array;
  loadBundle: BundleLoader;
  source?: SourceInfo;
  /** move the pointer (with a new sequence) even if it already names this bundle. */
  force?: boolean;
}

async function verifierFor(opts: Common): Promise<Verifier> {
  return createVerifier(opts.trustedPublicKeys ?? (await opts.signer.publicKey()));
}

const iso = (clock: Clock) => new Date(clock.now()).toISOString();

/**
 * The next sequence of a pointer or control document. When the current one exists but cannot be
 * read, the sequence restarts from the clock (epoch seconds), above any counter agents accepted,
 * so replacing a damaged document never looks like a rollback to them.
 */
function nextSequence(current: { doc: { sequence: number } | undefined } | undefined, clock: Clock): number {
  if (!current) return 1;
  if (current.doc) return current.doc.sequence + 1;
  return Math.max(1, Math.floor(clock.now() / 1000));
}

/** Reads the current pointer for its sequence and etag without trusting it (it may be signed by a retired key). */
async function peek<T>(store: PolicyStore, key: string, kind: 'pointer' | 'control', schema: { safeParse(v: unknown): { success: boolean; data?: T } }): Promise<{ obj: StoredObject; doc: T | undefined } | undefined> {
  const obj = await store.get(key);
  if (!obj) return undefined;
  try {
    const env = SignedEnvelopeSchema.safeParse(parseJson(obj.body, `${store.url}/${key}`));
    if (env.success && env.data.kind === kind) {
      const parsed = schema.safeParse(JSON.parse(env.data.payload));
      if (parsed.success) return { obj, doc: parsed.data };
    }
  } catch {
    // unreadable: replaced by the write below (see nextSequence)
  }
  return { obj, doc: undefined };
}

/** Checks a stored bundle exactly as an agent would (digest, signature, compile, version). */
async function checkStoredBundle(store: PolicyStore, policyVersion: string, verifier: Verifier, loadBundle: BundleLoader, compiledSha256?: string): Promise<{ sha256: string; bytes: number; sig: BundleSignatureFile }> {
  const keys = bundleKeys(policyVersion);
  const [bundle, sigObj] = await Promise.all([store.get(keys.bundle), store.get(keys.signature)]);
  if (!bundle) throw new DocumentError(`${store.url}/${keys.bundle} is missing: publish that version first`);
  if (!sigObj) throw new DocumentError(`${store.url}/${keys.signature} is missing: the bundle is unsigned`);
  const sig = parseBundleSignatureFile(sigObj.body, `${store.url}/${keys.signature}`);
  const sha256 = sha256Hex(bundle.body);
  if (sig.sha256 !== sha256 || sig.policyVersion !== policyVersion) {
    throw new DocumentError(`${store.url}/${keys.signature} does not describe ${keys.bundle} (digest or version differs): the store holds inconsistent objects`);
  }
  verifier.verifyDigest('bundle', sha256, sig.signature);
  // Bytes identical to the ones just compiled need not be compiled again.
  if (compiledSha256 === sha256) return { sha256, bytes: bundle.body.byteLength, sig };
  const policy = loadBundle(new TextDecoder('utf-8', { fatal: true }).decode(bundle.body), `${store.url}/${keys.bundle}`);
  if (policy.policyVersion !== policyVersion) {
    throw new DocumentError(`${store.url}/${keys.bundle} compiles to ${policy.policyVersion}, not ${policyVersion}`);
  }
  return { sha256, bytes: bundle.body.byteLength, sig };
}

async function movePointer(opts: Common & { policyVersion: string; sha256: string; bytes: number; source?: SourceInfo; force?: boolean }): Promise<PublishResult> {
  const { store } = opts;
  const keys = bundleKeys(opts.policyVersion);
  const current = await peek<Pointer>(store, POINTER_KEY, 'pointer', PointerSchema);
  const prev = current?.doc;
  const base = { store: store.url, policyVersion: opts.policyVersion, bundleKey: keys.bundle, signatureKey: keys.signature, sha256: opts.sha256, bytes: opts.bytes };
  if (prev && !opts.force && prev.policyVersion === opts.policyVersion && prev.sha256 === opts.sha256) {
    return { ...base, sequence: prev.sequence, previous: prev.previous, unchanged: true };
  }
  const pointer: Pointer = {
    kind: 'pointer',
    sequence: nextSequence(current, opts.clock),
    policyVersion: opts.policyVersion,
    bundle: keys.bundle,
    signature: keys.signature,
    sha256: opts.sha256,
    bytes: opts.bytes,
    publishedAt: iso(opts.clock),
    publishedBy: opts.publishedBy,
    previous: prev?.policyVersion ?? null,
    ...(opts.source ? { source: opts.source } : {}),
  };
  const body = await encodeSigned('pointer', pointer, opts.signer);
  try {
    await store.put(POINTER_KEY, body, current ? { ifMatch: current.obj.etag } : { ifAbsent: true });
  } catch (err) {
    if (err instanceof ConcurrentUpdateError) {
      throw new ConcurrentUpdateError(`another publish moved ${store.url}/${POINTER_KEY} while this one ran; the bundle ${opts.policyVersion} is uploaded but not current — re-run the publish`, { cause: err });
    }
    throw err;
  }
  return { ...base, sequence: pointer.sequence, previous: pointer.previous, unchanged: false };
}

export async function publishBundle(opts: PublishOptions): Promise<PublishResult> {
  const { store } = opts;
  const bytes = typeof opts.bundle === 'string' ? Buffer.from(opts.bundle, 'utf8') : Buffer.from(opts.bundle);
  let policyVersion: string;
  try {
    policyVersion = opts.loadBundle(new TextDecoder('utf-8', { fatal: true }).decode(bytes), 'the bundle to publish').policyVersion;
  } catch (cause) {
    throw new DistributionError(`the bundle does not load, so it was not published: ${(cause as Error).message} (rebuild it with \`warden rules bundle\`)`, { cause });
  }
  const keys = bundleKeys(policyVersion);
  const sha256 = sha256Hex(bytes);
  const verifier = await verifierFor(opts);

  // 1. the bundle: immutable; an identical one already there is fine (re-runs), a different one is not.
  try {
    await store.put(keys.bundle, bytes, { ifAbsent: true, contentType: 'application/json' });
  } catch (err) {
    if (!(err instanceof ConcurrentUpdateError)) throw err;
    const existing = await store.get(keys.bundle);
    if (!existing || sha256Hex(existing.body) !== sha256) {
      throw new DocumentError(`${store.url}/${keys.bundle} already exists with different content for the same version: the store has been altered; investigate before publishing`, { cause: err });
    }
  }
  // 2. its signature (re-signing is harmless: a signature over the same digest).
  const sigFile: BundleSignatureFile = {
    format: 'warden.signature/v1', kind: 'bundle', policyVersion, sha256, bytes: bytes.byteLength,
    signedAt: iso(opts.clock), signature: await opts.signer.sign('bundle', sha256),
  };
  await store.put(keys.signature, Buffer.from(JSON.stringify(sigFile, null, 2) + '\n', 'utf8'), { contentType: 'application/json' });
  // 3. read back what landed and check it as an agent will, before anything points at it.
  const checked = await checkStoredBundle(store, policyVersion, verifier, opts.loadBundle, sha256);
  // 4. move the pointer last.
  return movePointer({ ...opts, policyVersion, sha256: checked.sha256, bytes: checked.bytes });
}

/** Points `current.json` at a version published earlier, after checking it as agents will. */
export async function rollbackTo(opts: Common & { policyVersion: string; loadBundle: BundleLoader; source?: SourceInfo }): Promise<PublishResult> {
  const checked = await checkStoredBundle(opts.store, opts.policyVersion, await verifierFor(opts), opts.loadBundle);
  return movePointer({ ...opts, sha256: checked.sha256, bytes: checked.bytes, force: false });
}

export interface KillSwitchResult { store: string; sequence: number; killSwitch: KillSwitch; changed: boolean }

/** Engages (every agent to monitor mode) or releases the kill switch; agents apply it on their next refresh. */
export async function setKillSwitch(opts: Omit<Common, 'publishedBy'> & { engaged: boolean; reason: string; updatedBy: string }): Promise<KillSwitchResult> {
  const { store } = opts;
  if (opts.engaged && opts.reason.trim() === '') throw new DistributionError('engaging the kill switch needs a reason (--reason "…"): it is shown to everyone who sees agents stop blocking');
  const current = await peek<Control>(store, CONTROL_KEY, 'control', ControlSchema);
  const prev = current?.doc;
  const killSwitch: KillSwitch = { engaged: opts.engaged, reason: opts.reason };
  if (prev && prev.killSwitch.engaged === opts.engaged && prev.killSwitch.reason === opts.reason) {
    return { store: store.url, sequence: prev.sequence, killSwitch, changed: false };
  }
  const control: Control = { kind: 'control', sequence: nextSequence(current, opts.clock), updatedAt: iso(opts.clock), updatedBy: opts.updatedBy, killSwitch };
  try {
    await store.put(CONTROL_KEY, await encodeSigned('control', control, opts.signer), current ? { ifMatch: current.obj.etag } : { ifAbsent: true });
  } catch (err) {
    if (err instanceof ConcurrentUpdateError) {
      throw new ConcurrentUpdateError(`someone else changed ${store.url}/${CONTROL_KEY} at the same time; check \`warden killswitch status\` and re-run`, { cause: err });
    }
    throw err;
  }
  return { store: store.url, sequence: control.sequence, killSwitch, changed: true };
}
