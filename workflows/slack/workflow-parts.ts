import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/**
 * Construct pieces the approval and escalate workflows share (CDK, synth time only).
 */

/** The Lambda that serves a workflow's tasks; `WARDEN_TASK` tells the local runner which local handler stands in for it. */
export function taskFunction(scope: Construct, id: string, opts: { entry: string; wardenTask: string; description: string; environment: Record<string, string> }): NodejsFunction {
  return new NodejsFunction(scope, id, {
    entry: opts.entry,
    handler: 'handler',
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.seconds(30),
    description: opts.description,
    environment: { WARDEN_TASK: opts.wardenTask, NODE_OPTIONS: '--enable-source-maps', ...opts.environment },
    // the AWS SDK v3 is in the nodejs22.x runtime; @slack/web-api, zod and yaml are bundled
    bundling: { minify: true, sourceMap: true, target: 'node22' },
    logGroup: new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY }),
    tracing: lambda.Tracing.ACTIVE,
  });
}

/**
 * Start states that accept either an EventBridge event ("Policy Decision", decision in `detail`)
 * or the decision itself, and leave `{ decision }` as the state input.
 */
export function normalizeDecision(scope: Construct, next: sfn.IChainable): sfn.Choice {
  const fromEvent = new sfn.Pass(scope, 'DecisionFromEvent', { parameters: { 'decision.$': '$.detail' }, comment: 'started by EventBridge: the decision is the event detail' });
  const fromDetail = new sfn.Pass(scope, 'DecisionFromInput', { parameters: { 'decision.$': '$' }, comment: 'started with the decision itself' });
  fromEvent.next(next);
  fromDetail.next(next);
  return new sfn.Choice(scope, 'NormalizeInput')
    .when(sfn.Condition.isPresent('$.detail.incidentId'), fromEvent)
    .otherwise(fromDetail);
}

/** Starts another Warden workflow (quarantine, escalate) with the decision, as an EventBridge-shaped event. */
export function startWorkflow(scope: Construct, id: string, target: sfn.IStateMachine, source: string, comment: string): tasks.StepFunctionsStartExecution {
  const t = new tasks.StepFunctionsStartExecution(scope, id, {
    stateMachine: target,
    integrationPattern: sfn.IntegrationPattern.REQUEST_RESPONSE,
    input: sfn.TaskInput.fromObject({
      source,
      'detail-type': 'Policy Decision',
      detail: sfn.JsonPath.objectAt('$.decision'),
      startedBy: sfn.JsonPath.stringAt('$$.Execution.Id'),
    }),
    resultSelector: { 'executionArn.$': '$.ExecutionArn' },
    resultPath: '$.followUp',
    comment,
  });
  t.addRetry({ errors: ['SFN.ServiceQuotaExceededException', 'SFN.ThrottlingException', 'States.TaskFailed'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4 });
  return t;
}

/** Retries for the task Lambda's own transient errors (Slack or DynamoDB hiccups); input errors are not retried. */
export const TRANSIENT_TASK_ERRORS = ['SlackApiError', 'CallbackStoreError', 'ExceptionError', 'AuditLogError', 'SlackSecretsError'];

export function stateMachineLogs(scope: Construct): sfn.LogOptions {
  return {
    destination: new logs.LogGroup(scope, 'ExecutionLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY }),
    level: sfn.LogLevel.ALL,
    // execution data would put task tokens (callback task parameters) into the logs: keep them out
    includeExecutionData: false,
  };
}
