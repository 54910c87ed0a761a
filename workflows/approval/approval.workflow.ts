import { Aws, Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { TABLES } from '../../engine/audit/tables';
import { bucketObjectsFinding } from '../common/workflow-constructs';
import { APPROVERS_CONFIG_ENV, ApproversConfigSchema, approvalMaxWait, type ApproversConfig, type ApproversConfigInput } from '../slack/approvers';
import { SLACK_SECRET_ENV } from '../slack/secrets';
import { TRANSIENT_TASK_ERRORS, normalizeDecision, startWorkflow, stateMachineLogs, taskFunction } from '../slack/workflow-parts';
import { APPROVAL_TASK } from './approval-tasks';
import { PUBLISH_ENV } from './publish-env';
import { PUBLISH_EXCEPTIONS_TASK } from './publish-exceptions';

/** Lambda environment variables are limited to 4 KB in total. */
const MAX_APPROVERS_ENV_BYTES = 3000;

export class ApprovalWorkflowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalWorkflowError';
  }
}

export interface ApprovalWorkflowProps {
  /** rules/approvers.yaml, parsed (`loadApproversConfig`) or as plain data */
  readonly approvers: ApproversConfig | ApproversConfigInput;
  readonly approvalsTable: dynamodb.ITable;
  readonly exceptionsTable: dynamodb.ITable;
  readonly auditTable: dynamodb.ITable;
  /** Secrets Manager secret with the bot token (xoxb-…); only its ARN reaches the Lambda */
  readonly slackBotToken: secretsmanager.ISecret;
  /** started on deny when `onDeny` (or `onTimeout`) is quarantine */
  readonly quarantine?: sfn.IStateMachine;
  /** started on deny when `onDeny` (or `onTimeout`) is escalate */
  readonly escalate?: sfn.IStateMachine;
  readonly stateMachineName?: string;
  /**
   * Publish the function's active exceptions to the signed policy store after each approval, so
   * its agents stop blocking the approved access. A Lambda of its own signs with `signingKey` (a
   * KMS key used for nothing else) and writes only under `<prefix>/exceptions/`.
   */
  readonly exceptionPublishing?: ExceptionPublishingProps;
}

export interface ExceptionPublishingProps {
  readonly bucket: s3.IBucket;
  /** the policy store prefix (no trailing slash) */
  readonly prefix: string;
  /** asymmetric SIGN_VERIFY key for exceptions documents only */
  readonly signingKey: kms.IKey;
  /** its public key as agents pin it; without it the publisher also needs kms:GetPublicKey */
  readonly publicKeyPem?: string;
}

/** Serializes the approvers config for the Lambda environment, refusing sizes Lambda would reject at deploy. */
export function approversEnvValue(cfg: ApproversConfig): string {
  const value = JSON.stringify(cfg);
  if (Buffer.byteLength(value) > MAX_APPROVERS_ENV_BYTES) {
    throw new ApprovalWorkflowError(`rules/approvers.yaml is ${Buffer.byteLength(value)} bytes as JSON; Lambda environments hold 4 KB in total, so keep it under ${MAX_APPROVERS_ENV_BYTES} bytes (use globs and fewer groups)`);
  }
  return value;
}

/**
 * The approval state machine: post a Block Kit request to Slack, wait on a callback task token
 * (HeartbeatSeconds = approval.timeout, TimeoutSeconds = approval.maxWait), then
 * approve → time-bound exception + message updated; deny → the configured follow-up
 * (quarantine / escalate / none); no answer → the timeout action.
 */
export class ApprovalWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly taskFunction: NodejsFunction;
  public readonly config: ApproversConfig;
  /** the exceptions publisher (with `exceptionPublishing`) */
  public readonly publishFunction?: NodejsFunction;

  constructor(scope: Construct, id: string, props: ApprovalWorkflowProps) {
    super(scope, id);
    const parsed = ApproversConfigSchema.safeParse(props.approvers);
    if (!parsed.success) throw new ApprovalWorkflowError(`approvers config is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const cfg = parsed.data;
    this.config = cfg;
    const { onTimeout, onDeny } = cfg.approval;
    const needs = new Set<string>([onDeny, onTimeout === 'deny' ? onDeny : onTimeout]);
    if (needs.has('quarantine') && !props.quarantine) throw new ApprovalWorkflowError('approvers.yaml sends denied or unanswered requests to quarantine (approval.onDeny / onTimeout), but no `quarantine` state machine was passed to ApprovalWorkflow');
    if (needs.has('escalate') && !props.escalate) throw new ApprovalWorkflowError('approvers.yaml sends denied or unanswered requests to escalation (approval.onDeny / onTimeout), but no `escalate` state machine was passed to ApprovalWorkflow');
    const heartbeatSeconds = cfg.approval.timeout;
    const timeoutSeconds = approvalMaxWait(cfg.approval);

    const fn = taskFunction(this, 'Tasks', {
      entry: join(__dirname, 'handler.ts'),
      wardenTask: APPROVAL_TASK,
      description: 'Warden approval workflow tasks: post the Slack request, record the exception, update the message',
      environment: {
        [TABLES.approvals.env]: props.approvalsTable.tableName,
        [TABLES.exceptions.env]: props.exceptionsTable.tableName,
        [TABLES.audit.env]: props.auditTable.tableName,
        [SLACK_SECRET_ENV.botToken]: props.slackBotToken.secretArn,
        [APPROVERS_CONFIG_ENV]: approversEnvValue(cfg),
      },
    });
    props.approvalsTable.grantReadWriteData(fn);
    props.exceptionsTable.grantWriteData(fn);
    props.auditTable.grantWriteData(fn);
    props.slackBotToken.grantRead(fn);
    this.taskFunction = fn;

    const call = (sid: string, payload: Record<string, unknown>, resultPath: string, comment: string) => {
      const t = new tasks.LambdaInvoke(this, sid, { lambdaFunction: fn, payload: sfn.TaskInput.fromObject(payload), payloadResponseOnly: true, resultPath, comment });
      t.addRetry({ errors: TRANSIENT_TASK_ERRORS, interval: Duration.seconds(3), backoffRate: 2, maxAttempts: 4 });
      return t;
    };
    const decision = sfn.JsonPath.objectAt('$.decision');

    const followUp = (what: 'quarantine' | 'escalate' | 'none', suffix: string): sfn.IChainable => {
      if (what === 'quarantine') return startWorkflow(this, `StartQuarantine${suffix}`, props.quarantine!, 'warden.approval', 'deny: quarantine the function').next(new sfn.Succeed(this, `QuarantineStarted${suffix}`));
      if (what === 'escalate') return startWorkflow(this, `StartEscalation${suffix}`, props.escalate!, 'warden.approval', 'deny: notify the escalation tiers').next(new sfn.Succeed(this, `EscalationStarted${suffix}`));
      return new sfn.Succeed(this, `NoFollowUp${suffix}`);
    };
    const afterDeny = followUp(onDeny, 'AfterDeny');
    const afterTimeout = onTimeout === 'deny' || onTimeout === onDeny ? afterDeny : followUp(onTimeout, 'AfterTimeout');

    const request = new tasks.LambdaInvoke(this, 'RequestApproval', {
      lambdaFunction: fn,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        task: 'request',
        taskToken: sfn.JsonPath.taskToken,
        executionId: sfn.JsonPath.stringAt('$$.Execution.Id'),
        stateName: 'RequestApproval',
        decision,
        heartbeatSeconds,
        timeoutSeconds,
        onTimeout: onTimeout === 'deny' ? `deny (then ${onDeny})` : onTimeout,
      }),
      heartbeatTimeout: sfn.Timeout.duration(Duration.seconds(heartbeatSeconds)),
      taskTimeout: sfn.Timeout.duration(Duration.seconds(timeoutSeconds)),
      resultPath: '$.approval',
      comment: 'post the request; wait for Approve / Deny (interactivity endpoint) — "Still reviewing" sends a heartbeat',
    });
    request.addRetry({ errors: TRANSIENT_TASK_ERRORS, interval: Duration.seconds(3), backoffRate: 2, maxAttempts: 4 });

    const expired = call('ApplyTimeout', {
      task: 'expired', decision,
      executionId: sfn.JsonPath.stringAt('$$.Execution.Id'), stateName: 'RequestApproval',
      wait: sfn.JsonPath.objectAt('$.wait'), then: onTimeout, onDeny,
    }, '$.expiry', 'no decision in time: close the request, say so in Slack');
    const executionId = sfn.JsonPath.stringAt('$$.Execution.Id');
    const failed = call('RecordRequestFailure', { task: 'failed', decision, executionId, error: sfn.JsonPath.objectAt('$.error') }, '$.recorded', 'the request could not be posted');
    failed.next(new sfn.Fail(this, 'ApprovalRequestFailed', { error: 'Warden.ApprovalRequestFailed', causePath: '$.error.Cause' }));
    request.addCatch(expired, { errors: ['States.Timeout', 'States.HeartbeatTimeout'], resultPath: '$.wait' });
    request.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
    expired.next(afterTimeout);

    const approved = call('RecordApproval', { task: 'approved', decision, executionId, approval: sfn.JsonPath.objectAt('$.approval') }, '$.exception', 'grant the time-bound exception, update the message');
    const approvedEnd = new sfn.Succeed(this, 'Approved');
    if (props.exceptionPublishing) {
      this.publishFunction = this.publisher(props.exceptionPublishing, props.exceptionsTable);
      const publish = new tasks.LambdaInvoke(this, 'PublishExceptions', {
        lambdaFunction: this.publishFunction,
        payload: sfn.TaskInput.fromObject({ task: 'publish', functionName: sfn.JsonPath.stringAt('$.decision.function.name') }),
        payloadResponseOnly: true,
        resultPath: '$.published',
        comment: 'sign the function\'s active exceptions and put them in the policy store: its agents allow the approved access from their next refresh',
      });
      publish.addRetry({ errors: [...TRANSIENT_TASK_ERRORS, 'ConcurrentUpdateError', 'StoreError'], interval: Duration.seconds(3), backoffRate: 2, maxAttempts: 5 });
      // the exception is granted (the rules engine honours it), but agents in block mode would keep blocking: fail visibly
      publish.addCatch(new sfn.Fail(this, 'ExceptionsNotPublished', { error: 'Warden.ExceptionsNotPublished', causePath: '$.publishError.Cause' }), { errors: ['States.ALL'], resultPath: '$.publishError' });
      approved.next(publish.next(approvedEnd));
    } else {
      approved.next(approvedEnd);
    }
    const grantFailed = call('RecordGrantFailure', { task: 'failed', stage: 'approval', decision, executionId, error: sfn.JsonPath.objectAt('$.error') }, '$.recorded', 'approved, but no exception could be recorded');
    grantFailed.next(new sfn.Fail(this, 'ApprovalNotRecorded', { error: 'Warden.ApprovalNotRecorded', causePath: '$.error.Cause' }));
    approved.addCatch(grantFailed, { errors: ['States.ALL'], resultPath: '$.error' });
    const denied = call('RecordDenial', { task: 'denied', decision, executionId, approval: sfn.JsonPath.objectAt('$.approval'), then: onDeny }, '$.denial', 'update the message, then the deny follow-up');
    denied.next(afterDeny);
    // a Slack or audit hiccup must never stop the deny follow-up
    denied.addCatch(afterDeny, { errors: ['States.ALL'], resultPath: '$.recordError' });
    expired.addCatch(afterTimeout, { errors: ['States.ALL'], resultPath: '$.recordError' });

    const decided = new sfn.Choice(this, 'Decided')
      .when(sfn.Condition.stringEquals('$.approval.outcome', 'approved'), approved)
      .when(sfn.Condition.stringEquals('$.approval.outcome', 'denied'), denied)
      .otherwise(new sfn.Fail(this, 'UnexpectedOutcome', { error: 'Warden.UnexpectedOutcome', cause: 'the callback carried neither approved nor denied' }));

    const claim = call('ClaimRequest', { task: 'claim', decision, executionId, holdSeconds: timeoutSeconds }, '$.claim', 'one open request per function and access: repeats end here');
    claim.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.error' });
    const duplicate = new sfn.Choice(this, 'AlreadyRequested')
      .when(sfn.Condition.booleanEquals('$.claim.duplicate', true), new sfn.Succeed(this, 'Duplicate', { comment: 'the same access already has an open, approved or just-closed request' }))
      .otherwise(request.next(decided));

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      definitionBody: sfn.DefinitionBody.fromChainable(normalizeDecision(this, claim.next(duplicate))),
      // bounded: the longest wait plus time for the follow-up tasks
      timeout: Duration.seconds(timeoutSeconds + 3600),
      tracingEnabled: true,
      logs: stateMachineLogs(this),
      comment: 'Warden: approve or deny an unlisted access through Slack',
    });
  }

  /** The exceptions publisher: reads the table, signs with the exceptions key, writes `<prefix>/exceptions/*`. */
  private publisher(p: ExceptionPublishingProps, table: dynamodb.ITable): NodejsFunction {
    const fn = taskFunction(this, 'PublishExceptionsFn', {
      entry: join(__dirname, 'publish-handler.ts'),
      wardenTask: PUBLISH_EXCEPTIONS_TASK,
      description: 'Warden: publish a function\'s approved exceptions to the signed policy store (its agents honour them)',
      environment: {
        [TABLES.exceptions.env]: table.tableName,
        [PUBLISH_ENV.store]: `s3://${p.bucket.bucketName}/${p.prefix}`,
        [PUBLISH_ENV.kmsKeyId]: p.signingKey.keyArn,
        [PUBLISH_ENV.bucketOwner]: Aws.ACCOUNT_ID,
        ...(p.publicKeyPem ? { [PUBLISH_ENV.publicKey]: p.publicKeyPem } : {}),
      },
    });
    // least privilege: Query on the exceptions table; Sign (never on the policy key); objects under exceptions/ only
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [table.tableArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: p.publicKeyPem ? ['kms:Sign'] : ['kms:Sign', 'kms:GetPublicKey'], resources: [p.signingKey.keyArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [p.bucket.arnForObjects(`${p.prefix}/exceptions/*`)] }));
    if (fn.role) {
      Validations.of(fn.role).acknowledge({
        id: bucketObjectsFinding(this, p.bucket, `${p.prefix}/exceptions/*`),
        reason: 'One signed exceptions document per protected function under exceptions/ (the name is the function\'s); read for its sequence, then replaced.',
      });
    }
    return fn;
  }
}
