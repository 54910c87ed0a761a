import { decodeSigned, encodeSigned, ExceptionGrantSchema, MAX_EXCEPTIONS_PER_FUNCTION, type ExceptionGrant, type ExceptionsDoc } from './documents';
import { ConcurrentUpdateError, DistributionError, DocumentError } from './errors';
import type { Clock } from './policy-source';
import { createVerifier, type Signer, type Verifier } from './signing';
import { exceptionsKey, type PolicyStore } from './store';

/**
 * Publishing a function's approved exceptions to the policy store as one signed document,
 * `exceptions/<function>.json`, which that function's agents fetch on every refresh. The document
 * always holds the complete set of exceptions active at publish time: expired ones drop out, and
 * an exception deleted from the table is gone from the next document (revocation).
 */

export interface PublishExceptionsOptions {
  store: PolicyStore;
  /** the exceptions signing key (a KMS key of its own on AWS: it can sign nothing agents take as policy). */
  signer: Signer;
  clock: Clock;
  functionName: string;
  /** reads the function's exceptions now (the table); called again when a concurrent publish wins the race. */
  readExceptions: () => Promise<ReadonlyArray<ExceptionGrant & Record<string, unknown>>> | ReadonlyArray<ExceptionGrant & Record<string, unknown>>;
  publishedBy: string;
  /** keys the agents trust for exception documents; the upload is checked against them. Default: the signer's key. */
  trustedPublicKeys?: Parameters<typeof createVerifier>[0];
  /** attempts when another publish for the same function wins the race (default 3). */
  attempts?: number;
}

export interface PublishExceptionsResult {
  store: string;
  key: string;
  functionName: string;
  sequence: number;
  /** exceptions in the document (active at publish time) */
  count: number;
  /** exceptions left out because they had expired */
  expired: number;
  /** true when the store already held a verified document with exactly this set: nothing was written. */
  unchanged: boolean;
}

const iso = (clock: Clock) => new Date(clock.now()).toISOString();

/** Only the fields agents need, in a stable order (same set → same document content). */
function activeGrants(records: ReadonlyArray<ExceptionGrant & Record<string, unknown>>, now: number, functionName: string): { grants: ExceptionGrant[]; expired: number } {
  const byId = new Map<string, ExceptionGrant>();
  let expired = 0;
  for (const r of records) {
    const parsed = ExceptionGrantSchema.safeParse({
      exceptionId: r.exceptionId, access: r.access, expiresAt: r.expiresAt,
      ...(r.approvalId ? { approvalId: r.approvalId } : {}), ...(r.grantedBy ? { grantedBy: r.grantedBy } : {}),
    });
    if (!parsed.success) {
      throw new DocumentError(`exception ${String(r.exceptionId)} of ${functionName} cannot be published (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}); fix or delete its record`);
    }
    if (Date.parse(parsed.data.expiresAt) <= now) {
      expired++;
      continue;
    }
    byId.set(parsed.data.exceptionId, parsed.data);
  }
  const grants = [...byId.values()].sort((a, b) => (a.exceptionId < b.exceptionId ? -1 : a.exceptionId > b.exceptionId ? 1 : 0));
  if (grants.length > MAX_EXCEPTIONS_PER_FUNCTION) {
    throw new DistributionError(`${functionName} has ${grants.length} active exceptions, more than the ${MAX_EXCEPTIONS_PER_FUNCTION} one document may hold: add reviewed allow entries to the rules instead of approving each access`);
  }
  return { grants, expired };
}

/** The document currently in the store, if it verifies with the trusted keys (an unverifiable one is replaced). */
async function currentDoc(store: PolicyStore, key: string, verifier: Verifier, functionName: string): Promise<{ etag: string; doc: ExceptionsDoc | undefined } | undefined> {
  const obj = await store.get(key);
  if (!obj) return undefined;
  try {
    const doc = decodeSigned('exceptions', obj.body, verifier, `${store.url}/${key}`);
    return { etag: obj.etag, doc: doc.functionName === functionName ? doc : undefined };
  } catch {
    // damaged, forged or signed by a retired key: replaced below, with a sequence from the clock
    return { etag: obj.etag, doc: undefined };
  }
}

/**
 * The next sequence: one above the verified current document, and never below the clock in epoch
 * seconds, so replacing a damaged document never looks like a replay to agents.
 */
function nextSequence(current: ExceptionsDoc | undefined, clock: Clock): number {
  return Math.max((current?.sequence ?? 0) + 1, Math.floor(clock.now() / 1000));
}

export async function publishExceptions(opts: PublishExceptionsOptions): Promise<PublishExceptionsResult> {
  const { store, functionName } = opts;
  const key = exceptionsKey(functionName);
  const verifier = createVerifier(opts.trustedPublicKeys ?? (await opts.signer.publicKey()));
  const attempts = opts.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    const now = opts.clock.now();
    const { grants, expired } = activeGrants(await opts.readExceptions(), now, functionName);
    const current = await currentDoc(store, key, verifier, functionName);
    const base = { store: store.url, key, functionName, count: grants.length, expired };
    if (current?.doc && JSON.stringify(current.doc.exceptions) === JSON.stringify(grants)) {
      return { ...base, sequence: current.doc.sequence, unchanged: true };
    }
    const doc: ExceptionsDoc = { kind: 'exceptions', functionName, sequence: nextSequence(current?.doc, opts.clock), publishedAt: iso(opts.clock), publishedBy: opts.publishedBy, exceptions: grants };
    const body = await encodeSigned('exceptions', doc, opts.signer);
    try {
      await store.put(key, body, current ? { ifMatch: current.etag } : { ifAbsent: true });
    } catch (err) {
      if (err instanceof ConcurrentUpdateError && attempt < attempts) continue; // re-read the table and the document
      if (err instanceof ConcurrentUpdateError) {
        throw new ConcurrentUpdateError(`${store.url}/${key} kept changing during ${attempts} attempts (concurrent publishes for ${functionName}); run the publish again`, { cause: err });
      }
      throw err;
    }
    // read back and check as an agent will, so a key agents would reject fails here
    const stored = await store.get(key);
    if (!stored) throw new DocumentError(`${store.url}/${key} is missing right after it was written`);
    const check = decodeSigned('exceptions', stored.body, verifier, `${store.url}/${key}`);
    if (check.sequence < doc.sequence) throw new ConcurrentUpdateError(`${store.url}/${key} was replaced by an older document right after this publish; run it again`);
    return { ...base, sequence: doc.sequence, unchanged: false };
  }
}
