import { Duration, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { readAccountStatements, denyOwnComponents, executionLogs, functionArns, invoke, mappingArns, resolveGuardrails, roleArns, taskLambda, withThrottleRetry, type ResponseWorkflowProps } from '../common/workflow-constructs';

export type RestoreWorkflowProps = ResponseWorkflowProps;

/**
 * The restore state machine: the exact inverse of quarantine from the incident's snapshot.
 * plan (snapshot vs live state) → apply every difference except the deny-all → delete the deny-all
 * last (aws-sdk:iam:deleteRolePolicy) → verify field by field, record, notify. Dry run reports the
 * plan; a second run finds nothing to do. Input: `{ incidentId, dryRun?, requestedBy?, reason? }`.
 */
export class RestoreWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RestoreWorkflowProps) {
    super(scope, id);
    const guardrails = resolveGuardrails(props.guardrails);
    const entry = join(__dirname, 'handler.ts');
    const read = readAccountStatements(this);
    const planFn = taskLambda(this, 'PlanFn', { entry, wardenTask: 'restore.plan', description: 'Warden restore: compare snapshot and live state', props, guardrails, statements: read });
    const applyFn = taskLambda(this, 'ApplyFn', {
      entry, wardenTask: 'restore.apply', description: 'Warden restore: put role and function back as in the snapshot', props, guardrails,
      statements: [
        ...read,
        new iam.PolicyStatement({
          actions: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:PutRolePermissionsBoundary', 'iam:DeleteRolePermissionsBoundary', 'iam:TagRole', 'iam:UntagRole'],
          resources: [roleArns(this)],
        }),
        new iam.PolicyStatement({ actions: ['lambda:PutFunctionConcurrency', 'lambda:DeleteFunctionConcurrency', 'lambda:TagResource', 'lambda:UntagResource'], resources: [functionArns(this)] }),
        new iam.PolicyStatement({ actions: ['lambda:UpdateEventSourceMapping'], resources: [mappingArns(this)] }),
      ],
    });
    const reportFn = taskLambda(this, 'ReportFn', { entry, wardenTask: 'restore.report', description: 'Warden restore: verify, record and notify', props, guardrails, statements: read });
    const failedFn = taskLambda(this, 'FailedFn', { entry, wardenTask: 'restore.failed', description: 'Warden restore: record a failure and escalate', props, guardrails, statements: [] });
    for (const f of [planFn, applyFn, reportFn]) props.snapshotsTable.grantReadData(f);
    for (const f of [applyFn, reportFn]) props.auditTable.grantWriteData(f);
    props.auditTable.grantReadWriteData(failedFn);
    for (const f of [reportFn, failedFn]) props.topic.grantPublish(f);

    const recordFailure = invoke(this, 'RecordFailure', failedFn, '$.recorded', 'record what was done, escalate');
    recordFailure.addCatch(new sfn.Fail(this, 'RestoreFailedUnrecorded', { error: 'Warden.RestoreFailed', cause: 'restore failed and the failure could not be recorded or notified; read the execution history' }), { errors: ['States.ALL'], resultPath: '$.recordError' });
    recordFailure.next(new sfn.Fail(this, 'RestoreFailed', { error: 'Warden.RestoreFailed', causePath: '$.recorded.failure.cause' }));
    const step = <T extends sfn.TaskStateBase>(t: T): T => { t.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' }); return t; };

    const plan = step(invoke(this, 'Plan', planFn, '$.plan', 'load the snapshot, compare with the live role and function'));
    const apply = step(invoke(this, 'ApplyRestore', applyFn, '$.results.apply', 'every difference except the deny-all, each recorded'));
    const removeDenyAll = withThrottleRetry(new tasks.CallAwsService(this, 'RemoveDenyAllPolicy', {
      comment: 'last: delete the quarantine deny-all inline policy',
      service: 'iam', action: 'deleteRolePolicy', iamResources: [roleArns(this)],
      parameters: { RoleName: sfn.JsonPath.stringAt('$.plan.roleName'), PolicyName: sfn.JsonPath.stringAt('$.plan.denyPolicyName') },
      resultSelector: { removed: true },
      resultPath: '$.results.denyAll',
    }));
    const report = step(invoke(this, 'VerifyAndReport', reportFn, '$.report', 'verify the role and function equal the snapshot, record, notify'));
    // Deleted meanwhile (a retry after a lost response): the goal holds, go on to verification.
    removeDenyAll.addCatch(report, { errors: ['Iam.NoSuchEntityException'], resultPath: '$.results.denyAllGone' });
    step(removeDenyAll);
    const reportOther = step(invoke(this, 'ReportNoChange', reportFn, '$.report', 'refused, dry run or nothing to do: record and notify'));

    apply.next(new sfn.Choice(this, 'DenyAllPresent')
      .when(sfn.Condition.booleanEquals('$.plan.removeDenyAll', true), removeDenyAll)
      .otherwise(report));
    removeDenyAll.next(report);
    report.next(new sfn.Succeed(this, 'Restored'));
    reportOther.next(new sfn.Choice(this, 'RefusedOrDone')
      .when(sfn.Condition.stringEquals('$.plan.outcome', 'refused'), new sfn.Fail(this, 'Refused', { error: 'Warden.Refused', cause: 'restore refused: the role is held by another incident (see the notification and audit)' }))
      .otherwise(new sfn.Succeed(this, 'NothingChanged')));
    plan.next(new sfn.Choice(this, 'Decide')
      .when(sfn.Condition.stringEquals('$.plan.outcome', 'refused'), reportOther)
      .when(sfn.Condition.booleanEquals('$.plan.dryRun', true), reportOther)
      .when(sfn.Condition.stringEquals('$.plan.outcome', 'nothing-to-do'), reportOther)
      .otherwise(apply));

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      definitionBody: sfn.DefinitionBody.fromChainable(plan),
      timeout: Duration.hours(1),
      tracingEnabled: true,
      logs: executionLogs(this),
      comment: 'Warden: restore a quarantined Lambda function exactly from its snapshot',
    });
    for (const st of denyOwnComponents(guardrails.componentTag)) this.stateMachine.addToRolePolicy(st);
    Tags.of(this).add(guardrails.componentTag, 'restore');
  }
}
