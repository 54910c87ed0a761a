import { ConfigError, StoreError } from './errors';

/**
 * Where published bundles live. Two implementations with one interface: a local directory
 * (local-store.ts) and S3 (s3-store.ts). Layout inside the store (relative keys):
 *
 *   bundles/sha256-<hex>.json   the bundle exactly as `warden rules bundle` wrote it (immutable)
 *   bundles/sha256-<hex>.sig    its signature document
 *   current.json                signed pointer to the current bundle (written last)
 *   control.json                signed control document (the kill switch)
 */
export interface StoredObject {
  body: Uint8Array;
  /** opaque version tag of the stored object, for conditional writes. */
  etag: string;
}

export interface PutOptions {
  contentType?: string;
  /** write only if no object exists at the key (content-addressed, immutable objects). */
  ifAbsent?: boolean;
  /** write only if the object still has this etag (moving the pointer without losing a concurrent publish). */
  ifMatch?: string;
}

export interface PolicyStore {
  /** where the store is, for messages: `s3://bucket/prefix` or `file:///dir`. */
  readonly url: string;
  /** undefined when the object does not exist; throws StoreError when the store cannot be read. */
  get(key: string): Promise<StoredObject | undefined>;
  /** throws ConcurrentUpdateError when a condition fails, StoreError otherwise. */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<void>;
}

/** Largest object the store returns: a bigger one is refused rather than exhausting an agent's memory. */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024;

export const POINTER_KEY = 'current.json';
export const CONTROL_KEY = 'control.json';
const VERSION = /^sha256:([0-9a-f]{16,64})$/;

export function isPolicyVersion(v: string): boolean {
  return VERSION.test(v);
}

/** Content-addressed keys of a bundle and its signature (`:` is replaced: it is not portable in file names). */
export function bundleKeys(policyVersion: string): { bundle: string; signature: string } {
  const m = VERSION.exec(policyVersion);
  if (!m) throw new StoreError(`"${policyVersion}" is not a policy version (expected "sha256:" followed by 16–64 lowercase hex digits, as \`warden rules bundle\` prints)`);
  return { bundle: `bundles/sha256-${m[1]}.json`, signature: `bundles/sha256-${m[1]}.sig` };
}

const KEY = /^[A-Za-z0-9_%-][A-Za-z0-9._%-]*(\/[A-Za-z0-9_%-][A-Za-z0-9._%-]*)*$/;

/** Prefix of the per-function exception documents (the exception publisher may write only here). */
export const EXCEPTIONS_PREFIX = 'exceptions/';

/**
 * Key of one function's signed exception document: `exceptions/<name>.json`, every byte outside
 * `A-Z a-z 0-9 _ -` percent-encoded (UTF-8), so any name maps to exactly one valid key.
 */
export function exceptionsKey(functionName: string): string {
  if (functionName.length === 0 || functionName.length > 256) {
    throw new StoreError(`function name ${JSON.stringify(functionName.slice(0, 40))} cannot name an exceptions document: it must be 1–256 characters (AWS_LAMBDA_FUNCTION_NAME)`);
  }
  let out = '';
  for (const byte of Buffer.from(functionName, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `${EXCEPTIONS_PREFIX}${out}.json`;
}

/** Keys are relative, without `..` or empty segments: a key can never escape a local store's directory. */
export function assertValidKey(key: string): void {
  if (!KEY.test(key) || key.split('/').some((s) => s === '..' || s === '.')) {
    throw new StoreError(`invalid store key "${key}": keys are relative paths of letters, digits, ".", "_", "-" and "%"`);
  }
}

/**
 * Opens a store from a URL: `s3://bucket[/prefix]`, `file:///abs/dir`, or a plain directory path.
 * The S3 client is loaded only for s3 URLs (agents that read a local store never import it).
 */
export async function openStore(url: string, options: { region?: string; s3Client?: unknown; expectedBucketOwner?: string } = {}): Promise<PolicyStore> {
  const trimmed = url.trim();
  if (trimmed === '') throw new ConfigError('no policy store given: pass --store s3://BUCKET/PREFIX or a directory, or set WARDEN_POLICY_STORE');
  if (trimmed.startsWith('s3://')) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(trimmed);
    if (!m) throw new ConfigError(`invalid S3 store URL "${url}": expected s3://BUCKET or s3://BUCKET/PREFIX`);
    const prefix = (m[2] ?? '').replace(/\/+$/, '');
    if (prefix !== '') assertValidKey(prefix);
    const { S3Client } = await import('@aws-sdk/client-s3');
    const { S3PolicyStore } = await import('./s3-store');
    const client = (options.s3Client as InstanceType<typeof S3Client> | undefined) ?? new S3Client(options.region ? { region: options.region } : {});
    const owner = options.expectedBucketOwner;
    if (owner !== undefined && !/^\d{12}$/.test(owner)) throw new ConfigError(`expected bucket owner "${owner}" is not a 12-digit AWS account id`);
    return new S3PolicyStore({ client, bucket: m[1]!, prefix, ...(owner ? { expectedBucketOwner: owner } : {}) });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) && !trimmed.startsWith('file://')) {
    throw new ConfigError(`unsupported store URL "${url}": use s3://BUCKET/PREFIX, file:///DIR or a directory path`);
  }
  const { LocalDirectoryStore } = await import('./local-store');
  const dir = trimmed.startsWith('file://') ? (await import('node:url')).fileURLToPath(trimmed) : trimmed;
  return new LocalDirectoryStore(dir);
}
