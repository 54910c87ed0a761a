import { monotonicFactory } from 'ulid';
import { evaluateEvent, type EvaluateContext } from '../evaluate/evaluate';
import { loadBundleFile, type WardenPolicy } from '../policy';
import { createResponseSelector } from '../responses/select';
import type { Evaluate } from './core';
import { EngineConfigError } from './errors';

/**
 * Binds engine/evaluate's evaluateEvent to a compiled policy and its response rules. The
 * response selector is built once per policy version.
 */
export function evaluatorFor(policy: WardenPolicy, newId: (now: number) => string = monotonicFactory()): Evaluate {
  const responses = createResponseSelector(policy.normalized.responses);
  return (raw, now) => {
    const ctx: EvaluateContext = { policy, responses, now, newId: () => newId(now) };
    return evaluateEvent(raw, ctx);
  };
}

/**
 * Loads the packaged bundle (the rules layer's /opt/warden/policy.json) once. A missing or
 * corrupt bundle is a deployment error: every invocation fails (retried, then parked), it never
 * decides without a policy.
 */
export function loadEvaluator(bundlePath: string): Evaluate {
  let evaluate: Evaluate | undefined;
  let failure: Error | undefined;
  return (raw, now) => {
    if (!evaluate && !failure) {
      try {
        evaluate = evaluatorFor(loadBundleFile(bundlePath));
      } catch (err) {
        failure = new EngineConfigError(`cannot load the rules bundle ${bundlePath}: ${(err as Error).message}; redeploy Warden with valid rules`, { cause: err });
      }
    }
    if (failure) throw failure;
    return evaluate!(raw, now);
  };
}
