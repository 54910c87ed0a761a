import type { LocalLambdaHandler } from '../local/runner';
import { APPROVAL_TASK, runApprovalTask, type ApprovalTaskDeps } from './approval-tasks';

/** WARDEN_TASK → local handler, for the local runner (deps supplied by the caller: dynalite, local Slack, sim clock). */
export function approvalTaskHandlers(deps: ApprovalTaskDeps): Record<string, LocalLambdaHandler> {
  return { [APPROVAL_TASK]: (payload) => runApprovalTask(payload, deps) };
}
