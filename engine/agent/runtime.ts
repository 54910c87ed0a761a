/**
 * Wiring: read the configuration, load the policy, create the agent core, install the capture hooks
 * (once per process, shared by every copy of the agent through a global slot), wrap handlers and flush.
 */
import { loadBundleFileFor, readBundleFor, ScopedPolicy } from '../policy/bundle';
import type { CompiledPolicy } from '../policy/types';
import type { ExceptionLookup } from '../handler/exception-match';
import { installFetchCapture } from './capture/fetch';
import { installHttpCapture } from './capture/http';
import { installNetCapture } from './capture/net';
import { installSdkCapture } from './capture/sdk';
import { addExempt, clearCovered, clearExempt, connectedAddress, state } from './capture/state';
import { configFromEnv, type AgentConfig } from './config';
import { AgentCore, type DeliveryReport, type EventSink } from './core';
import { defaultEventBridgeClient, PutEventsSink } from './emitter';
import { PolicyUnavailableError } from './errors';

export type CaptureName = 'sdk' | 'http' | 'fetch' | 'net';
export const ALL_CAPTURES: readonly CaptureName[] = ['sdk', 'http', 'fetch', 'net'];

export interface InstallOptions {
  /** defaults to process.env */
  env?: Record<string, string | undefined>;
  /** a configuration instead of the environment */
  config?: AgentConfig;
  /** a compiled policy instead of loading WARDEN_POLICY */
  policy?: CompiledPolicy;
  /** how a bundle file is loaded (default: engine/policy's reader for this function, `loadBundleFileFor`) */
  loadPolicy?: (path: string, functionName: string) => CompiledPolicy;
  sink?: EventSink;
  clock?: () => number;
  log?: (line: string) => void;
  captures?: readonly CaptureName[];
  decisionTtlMs?: number;
  /** approved exceptions, when the caller runs the policy store itself (simulate); else they come from WARDEN_POLICY_STORE with WARDEN_EXCEPTIONS_PUBLIC_KEY */
  exceptions?: () => ExceptionLookup | undefined;
  /** how old a clock reading repeats inside an invocation may use (AgentCore `clockQuantumMs`); default CLOCK_QUANTUM_MS, 0 reads the clock on every call */
  clockQuantumMs?: number;
}

/** Default clock quantum: inside an invocation a repeat's time is at most this old (ms). */
export const CLOCK_QUANTUM_MS = 100;

const defaultLog = (line: string) => { process.stderr.write(line + '\n'); };

// Only this function's part of the bundle is parsed (the whole policy is still hash-verified):
// the rest of a large bundle costs the agent's cold start nothing but a hash.
function defaultLoadPolicy(path: string, functionName: string): CompiledPolicy {
  return loadBundleFileFor(path, functionName);
}

/** Loads the policy; never throws: a failure is returned as `error` (and decides per config). */
export function loadPolicy(config: AgentConfig, load: (path: string, functionName: string) => CompiledPolicy): { policy?: CompiledPolicy; error?: PolicyUnavailableError } {
  if (!config.policyPath) {
    return { error: new PolicyUnavailableError('WARDEN_POLICY is not set: point it at the bundle written by `warden rules bundle` (e.g. /opt/warden/policy.json).') };
  }
  try {
    return { policy: load(config.policyPath, config.functionName) };
  } catch (err) {
    return { error: new PolicyUnavailableError(`Cannot load the Warden policy bundle ${config.policyPath}: ${(err as Error).message ?? String(err)}. Rebuild it with \`warden rules bundle\`.`, { cause: err }) };
  }
}

/**
 * Set by the build (`--define:WARDEN_AGENT_SPLIT=true`, package.json "build" and the agent layer):
 * the policy-store code is then its own file, `agent-policy-store.js` next to the agent bundle, and
 * is not part of what every cold start parses. Undefined when running from the sources (tsx, jest)
 * or from a bundle built without the define, which then carries that code inline.
 */
declare const WARDEN_AGENT_SPLIT: boolean | undefined;
export const POLICY_STORE_FILE = 'agent-policy-store.js';

/** The policy-store entry (./policy-store), loaded only when WARDEN_POLICY_STORE is set. */
function importPolicyStore(): Promise<typeof import('./policy-store')> {
  // a ternary, not an if: esbuild drops the import() branch (and the code it would bundle) only from a folded ternary
  return typeof WARDEN_AGENT_SPLIT !== 'undefined' && WARDEN_AGENT_SPLIT
    ? Promise.resolve().then(() => {
      const file = `${__dirname}/${POLICY_STORE_FILE}`;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path known only at run time (the bundle's own directory)
        return require(file) as typeof import('./policy-store');
      } catch (err) {
        if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND' || !String((err as Error).message).includes(file)) throw err;
        throw new Error(`${file} is missing: ship ${POLICY_STORE_FILE} (from \`npm run build\`) next to the agent bundle`, { cause: err });
      }
    })
    : import('./policy-store');
}

/** The running policy-store refresh (engine/distribution), stopped by uninstall(). */
let distribution: { stop(): void; exceptions?: ExceptionLookup } | undefined;

/**
 * Central rules store (engine/distribution): when WARDEN_POLICY_STORE is set, the verified current
 * bundle replaces the packaged one and is refreshed in the background; each verified change (new
 * version, kill switch) goes to the agent through setPolicy. Loaded lazily: nothing without a store.
 */
function startPolicyDistribution(env: Record<string, string | undefined>, functionName: string, agent: AgentCore, initial: CompiledPolicy | undefined, log: (line: string) => void, clock: () => number): void {
  const handle: { stopped: boolean; source?: { stop(): void }; stop(): void; exceptions?: ExceptionLookup } = {
    stopped: false,
    stop() { this.stopped = true; this.source?.stop(); },
  };
  distribution = handle;
  void importPolicyStore().then(({ startAgentPolicyRefresh }) => startAgentPolicyRefresh({
    env, loadBundle: (text) => readBundleFor(text, functionName), initial, log, clock: { now: clock },
    functionName: agent.identity.name,
    onUpdate: ({ policy, killSwitch, exceptions }) => {
      if (handle.stopped || state().agent !== agent) return;
      handle.exceptions = exceptions; // setPolicy below re-decides every access with them
      agent.setPolicy(policy, killSwitch.engaged ? 'monitor' : undefined);
    },
  })).then((source) => {
    if (handle.stopped) source?.stop();
    else handle.source = source;
  }).catch((err: unknown) => {
    log(JSON.stringify({ level: 'ERROR', source: 'warden.agent', message: `policy store not used, enforcing the packaged policy: ${(err as Error).message}` }));
  });
}

/** The installed agent, if any. */
export function currentAgent(): AgentCore | undefined {
  return state().agent;
}

/**
 * Installs the agent in this process (idempotent: a second call returns the installed agent).
 * Throws WardenConfigError on bad configuration. A policy that cannot be loaded does not throw:
 * block mode then fails closed (every access denied) unless WARDEN_FAIL_OPEN=true.
 */
export function install(opts: InstallOptions = {}): AgentCore {
  const s = state();
  if (s.agent) return s.agent;
  const config = opts.config ?? configFromEnv(opts.env ?? process.env);
  const log = opts.log ?? defaultLog;
  const clock = opts.clock ?? Date.now;
  const { policy, error } = opts.policy ? { policy: opts.policy, error: undefined } : loadPolicy(config, opts.loadPolicy ?? defaultLoadPolicy);
  const sink = opts.sink ?? new PutEventsSink({ eventBus: config.eventBus, client: () => defaultEventBridgeClient(config.region), log });
  const agent: AgentCore = new AgentCore({
    config, policy, policyError: error, sink, clock, log,
    // a flush scheduled by an agent that was uninstalled meanwhile does nothing
    schedule: (fn) => { setImmediate(() => { if (state().agent === agent) fn(); }).unref(); },
    decisionTtlMs: opts.decisionTtlMs,
    clockQuantumMs: opts.clockQuantumMs ?? CLOCK_QUANTUM_MS,
    addressOf: connectedAddress,
    // approved exceptions (consulted on unlisted only): passed in, or verified from the policy store
    exceptions: opts.exceptions ?? (() => distribution?.exceptions),
  });
  if (policy instanceof ScopedPolicy && policy.via === 'full') {
    log(JSON.stringify({ level: 'WARN', source: 'warden.agent', message: `policy bundle read in full (${policy.fallback ?? 'no index'}): correct, but slower to start; rebuild it with \`warden rules bundle\``, policyVersion: policy.policyVersion }));
  }
  if (error) {
    log(JSON.stringify({ level: 'ERROR', source: 'warden.agent', message: error.message, mode: agent.mode,
      consequence: agent.mode === 'block' && !config.failOpen ? 'failing closed: every access is denied' : 'failing open: every access is allowed and reported with failOpen=true' }));
  }
  for (const e of config.exemptEndpoints) addExempt(e);
  s.agent = agent;
  const uninstallers: Record<CaptureName, () => () => void> = { sdk: installSdkCapture, http: installHttpCapture, fetch: installFetchCapture, net: installNetCapture };
  for (const name of opts.captures ?? ALL_CAPTURES) if (!s.hooks.has(name)) s.hooks.set(name, uninstallers[name]());
  const env = opts.env ?? process.env;
  if (!opts.policy && env.WARDEN_POLICY_STORE?.trim()) startPolicyDistribution(env, config.functionName, agent, policy, log, clock);
  return agent;
}

/** Removes every hook and forgets the agent (tests; a process normally keeps it). */
export function uninstall(): void {
  distribution?.stop();
  distribution = undefined;
  const s = state();
  for (const undo of s.hooks.values()) undo();
  s.hooks.clear();
  s.agent = undefined;
  clearCovered();
  clearExempt();
  s.addresses?.clear();
}

/** Flushes what is due now (`final`: every pending repeat too). Resolves with what was delivered. */
export async function flush(opts: { final?: boolean } = {}): Promise<DeliveryReport> {
  const agent = state().agent;
  return agent ? agent.flush(opts) : { sent: 0, logged: 0 };
}

type AnyHandler<E, C, R> = (event: E, context: C, callback?: (err?: unknown, result?: R) => void) => Promise<R> | R | void;

/**
 * Wraps a Lambda handler: the agent is installed on first use (from the environment), and the
 * access events due are flushed before the result (or the error) is returned. Works for async
 * handlers and for callback-style handlers (3 parameters).
 */
export function withWarden<E = unknown, C = unknown, R = unknown>(handler: AnyHandler<E, C, R>, opts: InstallOptions = {}): (event: E, context: C) => Promise<R> {
  const callbackStyle = handler.length >= 3;
  return async function wardenHandler(event: E, context: C): Promise<R> {
    const agent = install(opts);
    agent.setFunctionArn((context as { invokedFunctionArn?: string } | undefined)?.invokedFunctionArn);
    agent.beginInvocation();
    let ended = false;
    const end = async () => { if (!ended) { ended = true; await agent.endInvocation(); } };
    try {
      const result = callbackStyle
        ? await new Promise<R>((resolve, reject) => {
          const r = handler(event, context, (err, res) => (err ? reject(err) : resolve(res as R)));
          if (r && typeof (r as Promise<R>).then === 'function') (r as Promise<R>).then(resolve, reject);
        })
        : await (handler(event, context) as Promise<R> | R);
      return result;
    } finally {
      // Violations of this invocation are delivered (or logged) before it returns, also when it threw.
      await end();
    }
  };
}
