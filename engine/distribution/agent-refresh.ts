import type { CompiledPolicy } from '../policy/types';
import type { KillSwitch } from './documents';
import { createPolicySource, type BundleLoader, type Clock, type ExceptionSet, type PolicySource } from './policy-source';
import { exceptionKeysFromEnv, formatPolicySourceEvent, parseDistributionEnv, trustedKeysFromEnv } from './runtime';
import { createVerifier } from './signing';
import { openStore } from './store';

/** Marks an SDK client as the agent's own: the agent's capture neither decides nor reports its calls. */
export function exemptFromCapture<C extends object>(client: C): C {
  (client as Record<symbol, unknown>)[Symbol.for('warden.agent.exempt')] = true;
  return client;
}

export interface AgentPolicyUpdate<P extends CompiledPolicy> {
  /** the policy to enforce from now on (its modeFor answers `monitor` while the kill switch is engaged). */
  policy: P;
  killSwitch: KillSwitch;
  /** the function's approved exceptions in force (empty unless WARDEN_EXCEPTIONS_PUBLIC_KEY is set). */
  exceptions: ExceptionSet;
}

export interface AgentRefreshOptions<P extends CompiledPolicy> {
  env: Record<string, string | undefined>;
  loadBundle: BundleLoader<P>;
  /** the function the agent protects: its signed exceptions document is fetched when WARDEN_EXCEPTIONS_PUBLIC_KEY is set. */
  functionName?: string;
  /** the bundle the agent loaded at cold start (enforced until the store answers). */
  initial?: P;
  log: (line: string) => void;
  /** every change of policy, kill switch or exceptions, after it is verified. */
  onUpdate: (update: AgentPolicyUpdate<P>) => void;
  clock?: Clock;
  /** for tests: the S3 client to use for s3:// stores. */
  s3Client?: unknown;
}

/**
 * The agent's side of distribution: when WARDEN_POLICY_STORE is set, a verifying policy source
 * over the store, refreshed in the background, reporting every event as a log line and handing
 * every verified change to the agent. Resolves with the source (undefined without a store).
 * Never throws for a store problem: the agent keeps what it enforces and the reason is logged.
 */
export async function startAgentPolicyRefresh<P extends CompiledPolicy>(opts: AgentRefreshOptions<P>): Promise<PolicySource<P> | undefined> {
  const env = parseDistributionEnv(opts.env);
  if (!env.WARDEN_POLICY_STORE) return undefined;
  const verifier = createVerifier(trustedKeysFromEnv(env));
  // a key of its own, trusted for exceptions documents only (never for bundles, pointers, the kill switch);
  // a bad one disables exceptions (fails closed: approved accesses stay blocked), never the policy store
  let exceptions: { functionName: string; verifier: ReturnType<typeof createVerifier> } | undefined;
  try {
    const exceptionKeys = exceptionKeysFromEnv(env);
    if (exceptionKeys !== undefined && opts.functionName) exceptions = { functionName: opts.functionName, verifier: createVerifier(exceptionKeys) };
  } catch (err) {
    opts.log(JSON.stringify({ level: 'ERROR', source: 'warden.agent', event: 'policy.exceptions-disabled', message: `approved exceptions are not fetched (they stay blocked): ${(err as Error).message}` }));
  }
  let s3Client = opts.s3Client;
  if (!s3Client && env.WARDEN_POLICY_STORE.startsWith('s3://')) {
    const { S3Client } = await import('@aws-sdk/client-s3');
    // The policy fetch is the agent's own traffic: never decided against the function's rules.
    s3Client = exemptFromCapture(new S3Client({}));
  }
  const store = await openStore(env.WARDEN_POLICY_STORE, { s3Client, expectedBucketOwner: env.WARDEN_POLICY_BUCKET_OWNER });
  // Updates flow only once start() has settled: the packaged policy is not an update.
  const ref: { source?: PolicySource<P>; ready: boolean } = { ready: false };
  const push = () => {
    if (!ref.source || !ref.ready) return;
    opts.onUpdate({ policy: ref.source.current(), killSwitch: ref.source.killSwitch, exceptions: ref.source.exceptions() });
  };
  const source = createPolicySource<P>({
    store, verifier, loadBundle: opts.loadBundle, refreshMs: env.WARDEN_POLICY_REFRESH_MS,
    ...(opts.initial ? { initial: opts.initial } : {}), ...(opts.clock ? { clock: opts.clock } : {}),
    ...(exceptions ? { exceptions } : {}),
    onEvent: (e) => {
      opts.log(formatPolicySourceEvent(e, 'warden.agent'));
      if (e.type === 'loaded' || e.type === 'kill-switch' || e.type === 'exceptions') push();
    },
  });
  ref.source = source;
  try {
    await source.start();
  } catch {
    // no policy anywhere yet: already logged; the source keeps retrying on its interval
  }
  ref.ready = true;
  if (source.version !== null && (source.version !== opts.initial?.policyVersion || source.killSwitch.engaged || source.exceptions().size > 0)) push();
  return source;
}
