import { Duration, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { readAccountStatements, denyOwnComponents, executionLogs, functionArns, invoke, mappingArns, resolveGuardrails, roleArns, taskLambda, withThrottleRetry, type ResponseWorkflowProps } from '../common/workflow-constructs';
import type { QuarantineTask } from './tasks';

export type QuarantineWorkflowProps = ResponseWorkflowProps;

/**
 * The quarantine state machine (AWS incident-response guidance for a compromised Lambda function):
 * plan with guardrails → snapshot once → tag with the incident → inline deny-all that also revokes
 * older sessions (aws-sdk:iam:putRolePolicy) → detach managed policies → reserved concurrency 0 and
 * event source mappings disabled → record and notify. Dry run reports the plan; out-of-scope or
 * Warden's own resources are refused; any failure part-way is recorded, escalated, and FAILS.
 *
 * Input: `{ incidentId, functionName, dryRun?, listedInRules?, reason?, requestedBy? }`, or an
 * EventBridge "Policy Decision" event (its `detail` carries `incidentId` and `function.name`).
 */
export class QuarantineWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: QuarantineWorkflowProps) {
    super(scope, id);
    const guardrails = resolveGuardrails(props.guardrails);
    const entry = join(__dirname, 'handler.ts');
    const read = readAccountStatements(this);
    // ListFunctions (account-wide, no resource-level permission): who else uses the role
    const blastRadius = new iam.PolicyStatement({ actions: ['lambda:ListFunctions'], resources: ['*'] });
    const fn = (cid: string, task: QuarantineTask, description: string, statements: iam.PolicyStatement[]) =>
      taskLambda(this, cid, { entry, wardenTask: task, description, props, guardrails, statements });

    const planFn = fn('PlanFn', 'quarantine.plan', 'Warden quarantine: guardrails and plan', [...read, blastRadius]);
    const snapshotFn = fn('SnapshotFn', 'quarantine.snapshot', 'Warden quarantine: snapshot role and function once per incident', read);
    const tagFn = fn('TagFn', 'quarantine.tag', 'Warden quarantine: tag role and function with the incident', [
      ...read,
      new iam.PolicyStatement({ actions: ['iam:TagRole'], resources: [roleArns(this)] }),
      new iam.PolicyStatement({ actions: ['lambda:TagResource'], resources: [functionArns(this)] }),
    ]);
    const detachFn = fn('DetachFn', 'quarantine.detach', 'Warden quarantine: detach managed policies', [
      ...read, new iam.PolicyStatement({ actions: ['iam:DetachRolePolicy'], resources: [roleArns(this)] }),
    ]);
    const containFn = fn('ContainFn', 'quarantine.contain', 'Warden quarantine: reserved concurrency 0, event source mappings off', [
      ...read,
      new iam.PolicyStatement({ actions: ['lambda:PutFunctionConcurrency'], resources: [functionArns(this)] }),
      new iam.PolicyStatement({ actions: ['lambda:UpdateEventSourceMapping'], resources: [mappingArns(this)] }),
    ]);
    const reportFn = fn('ReportFn', 'quarantine.report', 'Warden quarantine: record the outcome and notify', []);
    const failedFn = fn('FailedFn', 'quarantine.failed', 'Warden quarantine: record a failure part-way and escalate', []);
    props.snapshotsTable.grantReadData(planFn);
    props.snapshotsTable.grantReadWriteData(snapshotFn);
    for (const f of [snapshotFn, tagFn, detachFn, containFn, reportFn]) props.auditTable.grantWriteData(f);
    props.auditTable.grantReadWriteData(failedFn);
    for (const f of [reportFn, failedFn]) props.topic.grantPublish(f);

    const recordFailure = invoke(this, 'RecordFailure', failedFn, '$.recorded', 'record what was done before the failure, escalate');
    const failed = new sfn.Fail(this, 'QuarantineFailed', { error: 'Warden.QuarantineFailed', causePath: '$.recorded.failure.cause' });
    const failedUnrecorded = new sfn.Fail(this, 'QuarantineFailedUnrecorded', { error: 'Warden.QuarantineFailed', cause: 'quarantine failed and the failure could not be recorded or notified; read the execution history' });
    recordFailure.addCatch(failedUnrecorded, { errors: ['States.ALL'], resultPath: '$.recordError' });
    recordFailure.next(failed);
    const step = <T extends sfn.TaskStateBase>(t: T): T => { t.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' }); return t; };

    const fromEvent = new sfn.Pass(this, 'FromDecisionEvent', {
      comment: 'started by a Policy Decision event (EventBridge or another workflow): take the incident and function from detail',
      parameters: {
        'incidentId.$': '$.detail.incidentId', 'functionName.$': '$.detail.function.name', 'reason.$': '$.detail.reason', 'requestedBy.$': '$.source',
      },
    });
    const plan = step(invoke(this, 'Plan', planFn, '$.plan', 'validate input, read function and role, guardrails, plan'));
    fromEvent.next(plan);
    const normalize = new sfn.Choice(this, 'NormalizeInput')
      .when(sfn.Condition.and(sfn.Condition.isPresent('$.detail.incidentId'), sfn.Condition.isPresent('$.source')), fromEvent)
      .otherwise(plan);

    const reportRefused = step(invoke(this, 'ReportRefused', reportFn, '$.report', 'record and notify the refusal'));
    reportRefused.next(new sfn.Fail(this, 'Refused', { error: 'Warden.Refused', cause: 'out of scope or one of Warden\'s own resources: nothing was changed (see the notification and audit)' }));
    const reportDryRun = step(invoke(this, 'ReportDryRun', reportFn, '$.report', 'dry run: report the plan, change nothing'));
    reportDryRun.next(new sfn.Succeed(this, 'DryRunReported'));

    const snapshot = step(invoke(this, 'Snapshot', snapshotFn, '$.results.snapshot', 'store role and function state once for the incident'));
    const tag = step(invoke(this, 'TagIncident', tagFn, '$.results.tag', 'tag role and function with warden:incident'));
    const putDenyAll = step(withThrottleRetry(new tasks.CallAwsService(this, 'PutDenyAllPolicy', {
      comment: 'inline deny-all + revoke sessions issued before the plan time (works at the managed-policy quota)',
      service: 'iam', action: 'putRolePolicy', iamResources: [roleArns(this)],
      parameters: {
        RoleName: sfn.JsonPath.stringAt('$.plan.roleName'),
        PolicyName: sfn.JsonPath.stringAt('$.plan.denyPolicyName'),
        PolicyDocument: sfn.JsonPath.stringAt('$.plan.denyPolicyDocument'),
      },
      resultSelector: { applied: true },
      resultPath: '$.results.denyAll',
    })));
    const detach = step(invoke(this, 'DetachManagedPolicies', detachFn, '$.results.detach', 'detach every managed policy'));
    const contain = step(invoke(this, 'StopInvocations', containFn, '$.results.contain', 'reserved concurrency 0, disable event source mappings'));
    const report = step(invoke(this, 'Report', reportFn, '$.report', 'record what was done and notify'));

    snapshot.next(tag);
    tag.next(new sfn.Choice(this, 'DenyAllNeeded')
      .when(sfn.Condition.booleanEquals('$.plan.putDenyAll', true), putDenyAll)
      .otherwise(detach));
    putDenyAll.next(detach);
    detach.next(contain);
    contain.next(report);
    report.next(new sfn.Succeed(this, 'Quarantined'));

    plan.next(new sfn.Choice(this, 'Decide')
      .when(sfn.Condition.stringEquals('$.plan.outcome', 'refused'), reportRefused)
      .when(sfn.Condition.booleanEquals('$.plan.dryRun', true), reportDryRun)
      .when(sfn.Condition.booleanEquals('$.plan.contain', false), report)
      .when(sfn.Condition.booleanEquals('$.plan.takeSnapshot', true), snapshot)
      .otherwise(tag));

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      definitionBody: sfn.DefinitionBody.fromChainable(normalize),
      timeout: Duration.hours(1),
      tracingEnabled: true,
      logs: executionLogs(this),
      comment: 'Warden: quarantine a compromised Lambda function (snapshot, deny-all + revoke sessions, detach, stop invocations)',
    });
    for (const st of denyOwnComponents(guardrails.componentTag)) this.stateMachine.addToRolePolicy(st);
    Tags.of(this).add(guardrails.componentTag, 'quarantine');
  }
}
