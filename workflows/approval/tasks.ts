import type { LocalLambdaHandler } from '../local/runner';
import { APPROVAL_TASK, runApprovalTask, type ApprovalTaskDeps } from './approval-tasks';
import { PUBLISH_EXCEPTIONS_TASK, runPublishExceptions, type PublishExceptionsDeps } from './publish-exceptions';

/** WARDEN_TASK → local handler, for the local runner (deps supplied by the caller: dynalite, local Slack, sim clock). */
export function approvalTaskHandlers(deps: ApprovalTaskDeps): Record<string, LocalLambdaHandler> {
  return { [APPROVAL_TASK]: (payload) => runApprovalTask(payload, deps) };
}

/** The exceptions publisher's local handler (a local store and key pair in simulations and tests). */
export function publishExceptionsTaskHandlers(deps: PublishExceptionsDeps): Record<string, LocalLambdaHandler> {
  return { [PUBLISH_EXCEPTIONS_TASK]: (payload) => runPublishExceptions(payload, deps) };
}
