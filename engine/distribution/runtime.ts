import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { CompiledPolicy } from '../policy/types';
import { ConfigError } from './errors';
import { createPolicySource, DEFAULT_REFRESH_MS, type BundleLoader, type Clock, type PolicySource, type PolicySourceEvent } from './policy-source';
import { createVerifier } from './signing';
import { openStore } from './store';

/**
 * Wiring for the agent and the rules engine: a policy source configured from the environment
 * the Warden construct sets. Without WARDEN_POLICY_STORE there is no central store and the
 * packaged bundle alone is enforced (returns undefined).
 */
export const DistributionEnvSchema = z.object({
  /** `s3://bucket/prefix` on AWS, a directory locally. */
  WARDEN_POLICY_STORE: z.string().trim().min(1).optional(),
  /** trusted public key(s): PEM (several may be concatenated) or base64 SubjectPublicKeyInfo DER. */
  WARDEN_POLICY_PUBLIC_KEY: z.string().trim().min(1).optional(),
  /** the same, from a file (e.g. shipped in the rules layer). */
  WARDEN_POLICY_PUBLIC_KEY_FILE: z.string().trim().min(1).optional(),
  WARDEN_POLICY_REFRESH_MS: z.coerce.number().int().min(0).max(86_400_000).default(DEFAULT_REFRESH_MS),
  /** the AWS account that owns the store bucket (S3 refuses requests to a bucket owned by anyone else). */
  WARDEN_POLICY_BUCKET_OWNER: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
  /**
   * trusted public key(s) of the exceptions signing key (PEM or base64 DER): when set, agents also fetch
   * their function's signed exceptions document (`exceptions/<function>.json`) and honour approved
   * exceptions. A key of its own: it is never trusted for bundles, pointers or the kill switch.
   */
  WARDEN_EXCEPTIONS_PUBLIC_KEY: z.string().trim().min(1).optional(),
  /** the same, from a file. */
  WARDEN_EXCEPTIONS_PUBLIC_KEY_FILE: z.string().trim().min(1).optional(),
});
export type DistributionEnv = z.infer<typeof DistributionEnvSchema>;

export function parseDistributionEnv(env: Record<string, string | undefined>): DistributionEnv {
  const r = DistributionEnvSchema.safeParse(env);
  if (!r.success) {
    throw new ConfigError(`policy distribution settings are invalid (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  }
  return r.data;
}

/** The trusted public key(s) named by the environment; ConfigError when none is given. */
export function trustedKeysFromEnv(env: DistributionEnv): string {
  if (env.WARDEN_POLICY_PUBLIC_KEY) return env.WARDEN_POLICY_PUBLIC_KEY;
  if (env.WARDEN_POLICY_PUBLIC_KEY_FILE) {
    try {
      return readFileSync(env.WARDEN_POLICY_PUBLIC_KEY_FILE, 'utf8');
    } catch (cause) {
      throw new ConfigError(`cannot read WARDEN_POLICY_PUBLIC_KEY_FILE ${env.WARDEN_POLICY_PUBLIC_KEY_FILE}: ${(cause as Error).message}`, { cause });
    }
  }
  throw new ConfigError('WARDEN_POLICY_STORE is set but no trusted key is: set WARDEN_POLICY_PUBLIC_KEY (PEM) or WARDEN_POLICY_PUBLIC_KEY_FILE; bundles are never loaded unverified');
}

/** The exceptions signing key(s) named by the environment; undefined when agents are not to fetch exceptions. */
export function exceptionKeysFromEnv(env: Pick<DistributionEnv, 'WARDEN_EXCEPTIONS_PUBLIC_KEY' | 'WARDEN_EXCEPTIONS_PUBLIC_KEY_FILE'>): string | undefined {
  if (env.WARDEN_EXCEPTIONS_PUBLIC_KEY) return env.WARDEN_EXCEPTIONS_PUBLIC_KEY;
  if (env.WARDEN_EXCEPTIONS_PUBLIC_KEY_FILE) {
    try {
      return readFileSync(env.WARDEN_EXCEPTIONS_PUBLIC_KEY_FILE, 'utf8');
    } catch (cause) {
      throw new ConfigError(`cannot read WARDEN_EXCEPTIONS_PUBLIC_KEY_FILE ${env.WARDEN_EXCEPTIONS_PUBLIC_KEY_FILE}: ${(cause as Error).message}`, { cause });
    }
  }
  return undefined;
}

export interface SourceFromEnvOptions<P extends CompiledPolicy = CompiledPolicy> {
  loadBundle: BundleLoader<P>;
  /** the packaged bundle (e.g. /opt/warden/policy.json), enforced until the store answers. */
  initial?: P;
  onEvent?: (event: PolicySourceEvent) => void;
  clock?: Clock;
  region?: string;
  s3Client?: unknown;
}

export async function policySourceFromEnv<P extends CompiledPolicy = CompiledPolicy>(env: Record<string, string | undefined>, options: SourceFromEnvOptions<P>): Promise<PolicySource<P> | undefined> {
  const parsed = parseDistributionEnv(env);
  if (!parsed.WARDEN_POLICY_STORE) return undefined;
  const verifier = createVerifier(trustedKeysFromEnv(parsed));
  const store = await openStore(parsed.WARDEN_POLICY_STORE, { region: options.region, s3Client: options.s3Client, expectedBucketOwner: parsed.WARDEN_POLICY_BUCKET_OWNER });
  return createPolicySource({
    store, verifier, loadBundle: options.loadBundle, refreshMs: parsed.WARDEN_POLICY_REFRESH_MS,
    initial: options.initial, onEvent: options.onEvent, clock: options.clock,
  });
}

/** One structured log line per source event: rejections are errors (alarm on them), loads are info. */
export function formatPolicySourceEvent(event: PolicySourceEvent, source: string): string {
  const level = event.type === 'rejected' ? 'ERROR' : event.type === 'kill-switch' && event.engaged ? 'WARN' : 'INFO';
  const message = event.type === 'loaded'
    ? `policy ${event.policyVersion} in force (from ${event.from}${event.sequence !== null ? `, pointer #${event.sequence}` : ''})`
    : event.type === 'rejected'
      ? event.what === 'exceptions'
        ? `exceptions document rejected (${event.reason}); the last verified exceptions stay in force: ${event.message}`
        : `policy ${event.what} rejected (${event.reason}); still enforcing ${event.keptVersion ?? 'NO POLICY'}: ${event.message}`
      : event.type === 'exceptions'
        ? `${event.count} approved exception(s) in force for ${event.functionName}${event.sequence !== null ? ` (exceptions #${event.sequence})` : ''}`
        : event.engaged
          ? `kill switch ENGAGED: every function runs in monitor mode (reason: ${event.reason})`
          : 'kill switch released: functions run in the mode their rules set';
  const { type, ...fields } = event;
  const detail = 'message' in fields ? { detail: fields.message } : {};
  return JSON.stringify({ ...fields, ...detail, level, source, message, event: `policy.${type}` });
}
