import type { Evaluate } from '../handler/core';
import type { WardenPolicy } from '../policy/compile';
import { PolicyUnavailableError } from './errors';
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
export function reportSourceEvents(log: { info(m: string, x?: Record<string, unknown>): void; warn(m: string, x?: Record<string, unknown>): void; error(m: string, x?: Record<string, unknown>): void }, count?: (name: string) => void): (e: PolicySourceEvent) => void {
  return (e) => {
    if (e.type === 'loaded') {
      log.info(`policy ${e.policyVersion} in force`, { ...e });
      count?.('PolicyLoaded');
    } else if (e.type === 'rejected') {
      log.error(`policy ${e.what} rejected (${e.reason}); still enforcing ${e.keptVersion ?? 'no policy'}`, { ...e });
      count?.('PolicyRejected');
    } else {
      (e.engaged ? log.warn : log.info)(`kill switch ${e.engaged ? 'engaged' : 'released'}`, { ...e });
    }
  };
}

export { PolicyUnavailableError };
