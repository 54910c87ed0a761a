import type { Evaluate, EngineLogger } from '../handler/core';
import type { WardenPolicy } from '../policy/compile';
import type { PolicySource, PolicySourceEvent } from './policy-source';

/**
 * The rules engine on a refreshing policy source: each evaluation takes the policy in force once
 * (a refresh during an evaluation changes nothing in it) and uses an evaluator built once per
 * policy object. `build` is engine/handler's `evaluatorFor`. Until the first load completes,
 * evaluations wait for it; with no policy at all they throw, so the invocation fails and is
 * retried — the engine never decides without a policy.
 */
export function evaluatorFromSource(source: PolicySource<WardenPolicy>, build: (policy: WardenPolicy) => Evaluate): Evaluate {
  const evaluators = new WeakMap<WardenPolicy, Evaluate>();
  let started: Promise<unknown> | undefined;
  return async (raw, now) => {
    started ??= source.start().catch((err: unknown) => {
      started = undefined; // the next invocation tries again (the source keeps refreshing meanwhile)
      throw err;
    });
    if (source.version === null) await started;
    const policy = source.current();
    let evaluate = evaluators.get(policy);
    if (!evaluate) {
      evaluate = build(policy);
      evaluators.set(policy, evaluate);
    }
    return evaluate(raw, now);
  };
}

/** Turns source events into the engine's log lines and metrics (rejections are errors: alarm on them). */
export function reportSourceEvents(log: EngineLogger, count?: (name: string) => void): (e: PolicySourceEvent) => void {
  return (e) => {
    if (e.type === 'loaded') {
      log.info(`policy ${e.policyVersion} in force`, { ...e });
      count?.('PolicyLoaded');
    } else if (e.type === 'rejected') {
      log.error(`policy ${e.what} rejected (${e.reason}); still enforcing ${e.keptVersion ?? 'no policy'}`, { ...e });
      count?.('PolicyRejected');
    } else if (e.type === 'exceptions') {
      log.info(`${e.count} approved exception(s) in force for ${e.functionName}`, { ...e });
    } else {
      (e.engaged ? log.warn : log.info)(`kill switch ${e.engaged ? 'engaged' : 'released'}`, { ...e });
    }
  };
}


/**
 * The rules engine's evaluator, from its environment: without WARDEN_POLICY_STORE exactly the
 * packaged bundle (`packaged`, e.g. engine/handler's loadEvaluator); with it, the verified current
 * bundle from the store, refreshed in the background, the packaged one enforced until the store
 * answers. Everything is set up on the first evaluation (Lambda init stays synchronous).
 */
export function engineEvaluatorFromEnv(env: Record<string, string | undefined>, opts: {
  bundlePath: string;
  log: EngineLogger;
  count?: (name: string) => void;
  packaged: (bundlePath: string) => Evaluate;
  build: (policy: WardenPolicy) => Evaluate;
  /** receives the source once it exists (tests, metrics). */
  onSource?: (source: PolicySource<WardenPolicy>) => void;
}): Evaluate {
  if (!env.WARDEN_POLICY_STORE?.trim()) return opts.packaged(opts.bundlePath);
  let ready: Promise<Evaluate> | undefined;
  const setup = async (): Promise<Evaluate> => {
    const [{ loadBundleFile, readBundle }, { policySourceFromEnv }] = await Promise.all([import('../policy/bundle'), import('./runtime')]);
    let initial: WardenPolicy | undefined;
    try {
      initial = loadBundleFile(opts.bundlePath);
    } catch (err) {
      opts.log.error(`packaged rules bundle ${opts.bundlePath} not usable; waiting for the policy store`, { error: (err as Error).message });
    }
    const source = await policySourceFromEnv(env, {
      loadBundle: (text) => readBundle(text), onEvent: reportSourceEvents(opts.log, opts.count), ...(initial ? { initial } : {}),
    });
    opts.onSource?.(source!);
    return evaluatorFromSource(source!, opts.build);
  };
  return async (raw, now) => {
    ready ??= setup().catch((err: unknown) => { ready = undefined; throw err; });
    return (await ready)(raw, now);
  };
}
