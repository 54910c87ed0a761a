import { TABLES } from '../../engine/audit/tables';
import { approversFromEnv, awsPortsFromEnv, requireEnv } from '../slack/lambda-env';
import { runApprovalTask, type ApprovalTaskDeps } from './approval-tasks';
import { DynamoExceptionStore } from './exception-store';

/** Lambda entry of the approval workflow's tasks (WARDEN_TASK=approval.tasks): wiring only. */
let deps: ApprovalTaskDeps | undefined;

function build(): ApprovalTaskDeps {
  const aws = awsPortsFromEnv(process.env);
  return {
    store: aws.store,
    slack: aws.slack,
    audit: aws.audit,
    clock: aws.clock,
    approvers: approversFromEnv(process.env),
    exceptions: new DynamoExceptionStore(aws.doc, requireEnv(process.env, TABLES.exceptions.env, 'the exceptions table')),
  };
}

export const handler = async (event: unknown): Promise<unknown> => runApprovalTask(event, (deps ??= build()));
