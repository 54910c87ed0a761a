import { depsFromEnv } from '../common/lambda-deps';
import { dispatchTask } from '../common/task-runtime';
import type { WorkflowDeps } from '../common/deps';
import { QUARANTINE_TASKS } from './tasks';

let deps: WorkflowDeps | undefined;

/** Lambda entry of every quarantine task: dispatches on WARDEN_TASK. */
export const handler = async (event: unknown): Promise<unknown> => dispatchTask(QUARANTINE_TASKS, process.env.WARDEN_TASK, event, (deps ??= depsFromEnv()));
