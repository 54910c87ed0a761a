import type { LocalLambdaHandler } from '../local/runner';
import { ESCALATE_TASK, runEscalateTask, type EscalateTaskDeps } from './escalate-tasks';

/** WARDEN_TASK → local handler, for the local runner (deps supplied by the caller). */
export function escalateTaskHandlers(deps: EscalateTaskDeps): Record<string, LocalLambdaHandler> {
  return { [ESCALATE_TASK]: (payload) => runEscalateTask(payload, deps) };
}
