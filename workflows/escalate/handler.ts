import { awsPortsFromEnv } from '../slack/lambda-env';
import { runEscalateTask, type EscalateTaskDeps } from './escalate-tasks';

/** Lambda entry of the escalate workflow's tasks (WARDEN_TASK=escalate.tasks): wiring only. */
let deps: EscalateTaskDeps | undefined;

function build(): EscalateTaskDeps {
  const aws = awsPortsFromEnv(process.env);
  return { store: aws.store, slack: aws.slack, sns: aws.sns, audit: aws.audit, clock: aws.clock };
}

export const handler = async (event: unknown): Promise<unknown> => runEscalateTask(event, (deps ??= build()));
