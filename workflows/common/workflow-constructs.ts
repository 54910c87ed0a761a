import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { TABLES } from '../../engine/audit/tables';
import { GUARDRAIL_DEFAULTS, type GuardrailConfig } from './deps';
import { THROTTLING_ERRORS } from './errors';
import { ENV } from './lambda-deps';

/** CDK pieces the quarantine and restore workflows share (synth time only). */

export interface ResponseWorkflowProps {
  readonly snapshotsTable: dynamodb.ITable;
  readonly auditTable: dynamodb.ITable;
  /** where the workflow says what it did (and escalates failures) */
  readonly topic: sns.ITopic;
  /** defaults: tag `warden:protected` in scope, tag `warden:component` and prefix `warden-` are Warden's own */
  readonly guardrails?: Partial<GuardrailConfig>;
  readonly stateMachineName?: string;
}

/** IAM reads every quarantine/restore task may need to observe a function and its role. */
const READ_ROLE_ACTIONS = ['iam:GetRole', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies', 'iam:GetRolePolicy'];

export function roleArns(scope: Construct): string { return Stack.of(scope).formatArn({ service: 'iam', region: '', resource: 'role', resourceName: '*' }); }
export function mappingArns(scope: Construct): string { return Stack.of(scope).formatArn({ service: 'lambda', resource: 'event-source-mapping', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }); }
/** The cdk-nag finding id (AwsSolutions-IAM5) of a grant on a bucket's objects matching `pattern` (e.g. `policy/*`). */
export function bucketObjectsFinding(scope: Construct, bucket: s3.IBucket, pattern: string): string {
  return `AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${pattern}]`;
}
export function functionArns(scope: Construct): string { return Stack.of(scope).formatArn({ service: 'lambda', resource: 'function', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }); }

/** What quarantine and restore read to snapshot or compare a role and function (ListEventSourceMappings has no resource-level permission). */
export function readAccountStatements(scope: Construct): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({ actions: READ_ROLE_ACTIONS, resources: [roleArns(scope)] }),
    new iam.PolicyStatement({ actions: ['lambda:GetFunction'], resources: [functionArns(scope)] }),
    new iam.PolicyStatement({ actions: ['lambda:ListEventSourceMappings'], resources: ['*'] }),
  ];
}

/**
 * Defence in depth for the guardrail: whatever the code decides, these roles may not change a
 * role or function tagged as Warden's own.
 */
export function denyOwnComponents(componentTag: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'NeverTouchWardenRoles', effect: iam.Effect.DENY,
      actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:PutRolePermissionsBoundary', 'iam:DeleteRolePermissionsBoundary', 'iam:TagRole', 'iam:UntagRole'],
      resources: ['*'], conditions: { StringLike: { [`iam:ResourceTag/${componentTag}`]: '*' } },
    }),
    new iam.PolicyStatement({
      sid: 'NeverTouchWardenFunctions', effect: iam.Effect.DENY,
      actions: ['lambda:PutFunctionConcurrency', 'lambda:DeleteFunctionConcurrency', 'lambda:TagResource', 'lambda:UntagResource'],
      resources: ['*'], conditions: { StringLike: { [`aws:ResourceTag/${componentTag}`]: '*' } },
    }),
  ];
}

export function guardrailEnv(g: GuardrailConfig): Record<string, string> {
  return { [ENV.protectedTag]: g.protectedTag, [ENV.componentTag]: g.componentTag, [ENV.ownPrefixes]: g.ownNamePrefixes.join(','), [ENV.listedFunctions]: g.listedFunctions.join(',') };
}

export function resolveGuardrails(p?: Partial<GuardrailConfig>): GuardrailConfig {
  const g = { ...GUARDRAIL_DEFAULTS, ...p };
  if (!g.protectedTag || !g.componentTag) throw new Error('guardrails: protectedTag and componentTag must be non-empty tag keys');
  const bad = [...g.ownNamePrefixes, ...g.listedFunctions].filter((x) => x.includes(','));
  if (bad.length) throw new Error(`guardrails: names and globs may not contain commas (${bad.join(' ')})`);
  // Lambda environments hold 4 KB in total; leave room for the rest.
  if (g.listedFunctions.join(',').length > 2500) throw new Error(`guardrails.listedFunctions is ${g.listedFunctions.join(',').length} characters; Lambda environments hold 4 KB — use globs (e.g. "payments-*")`);
  return g;
}

/** One task Lambda: `WARDEN_TASK` names the handler (and the local runner's stand-in). */
export function taskLambda(scope: Construct, id: string, o: {
  entry: string; wardenTask: string; description: string; props: ResponseWorkflowProps; guardrails: GuardrailConfig; statements: iam.PolicyStatement[];
}): NodejsFunction {
  const fn = new NodejsFunction(scope, id, {
    entry: o.entry,
    handler: 'handler',
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.seconds(60),
    description: o.description,
    environment: {
      WARDEN_TASK: o.wardenTask,
      [TABLES.snapshots.env]: o.props.snapshotsTable.tableName,
      [TABLES.audit.env]: o.props.auditTable.tableName,
      [ENV.topicArn]: o.props.topic.topicArn,
      ...guardrailEnv(o.guardrails),
    },
    bundling: { minify: true, sourceMap: false, target: 'node22' },
    logGroup: new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY }),
    tracing: lambda.Tracing.ACTIVE,
  });
  for (const s of [...o.statements, ...denyOwnComponents(o.guardrails.componentTag)]) fn.addToRolePolicy(s);
  return fn;
}

/** A Lambda task whose Payload is the whole state; throttling retried with backoff. */
export function invoke(scope: Construct, id: string, fn: lambda.IFunction, resultPath: string, comment: string): tasks.LambdaInvoke {
  const t = new tasks.LambdaInvoke(scope, id, { lambdaFunction: fn, payloadResponseOnly: true, resultPath, comment, retryOnServiceExceptions: false });
  return withThrottleRetry(t);
}

export function withThrottleRetry<T extends sfn.TaskStateBase>(t: T): T {
  t.addRetry({ errors: THROTTLING_ERRORS, interval: Duration.seconds(1), backoffRate: 2, maxAttempts: 6, maxDelay: Duration.seconds(30), jitterStrategy: sfn.JitterType.FULL });
  return t;
}

export function executionLogs(scope: Construct): sfn.LogOptions {
  return {
    destination: new logs.LogGroup(scope, 'ExecutionLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY }),
    level: sfn.LogLevel.ALL,
    includeExecutionData: true,
  };
}
