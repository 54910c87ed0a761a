import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { TABLES } from '../../engine/audit/tables';
import { SLACK_SECRET_ENV } from '../slack/secrets';
import { TRANSIENT_TASK_ERRORS, normalizeDecision, startWorkflow, stateMachineLogs, taskFunction } from '../slack/workflow-parts';
import { ESCALATE_TASK } from './escalate-tasks';
import {
  EscalationConfigSchema, ackersFor, escalationPlans, tierMaxWait,
  type EscalationConfig, type EscalationConfigInput, type EscalationPlan, type EscalationTier,
} from './escalation-config';

export class EscalateWorkflowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EscalateWorkflowError';
  }
}

export interface EscalateWorkflowProps {
  /** rules/escalation.yaml, parsed (`loadEscalationConfig`) or as plain data */
  readonly escalation: EscalationConfig | EscalationConfigInput;
  readonly approvalsTable: dynamodb.ITable;
  readonly auditTable: dynamodb.ITable;
  readonly slackBotToken: secretsmanager.ISecret;
  /** SNS topics by the key escalation.yaml uses (`sns: oncall-pager`); a tier may also name a topic ARN */
  readonly topics?: Record<string, sns.ITopic>;
  /** started when a plan's finalAction is quarantine */
  readonly quarantine?: sfn.IStateMachine;
  readonly stateMachineName?: string;
}

interface Wait {
  name: string;
  tier: EscalationTier;
  tierIndex: number;
  attempt: number;
  cycle: number;
}

/** Step Functions state names: at most 80 characters, unique in the machine. */
function waitName(plan: EscalationPlan, w: Omit<Wait, 'name'>, attempts: number, cycles: number): string {
  const scope = plan.key === 'default' ? '' : `${plan.key} `;
  return `${scope}Notify ${w.tier.name} (tier ${w.tierIndex + 1}${attempts > 1 ? `, notice ${w.attempt}` : ''}${cycles > 1 ? `, pass ${w.cycle}` : ''})`.slice(0, 80);
}

/**
 * The escalate state machine, generated from escalation.yaml at synth: a Choice picks the plan for
 * the function (overrides by glob, then the default); each notice of each tier is a callback task
 * (HeartbeatSeconds = ackTimeout, TimeoutSeconds = maxWait) whose timeout leads to the next notice;
 * an ack ends the escalation and records who acknowledged; after the last tier the final action
 * runs (start quarantine, or the passes of `repeat` end as unacknowledged).
 */
export class EscalateWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly taskFunction: NodejsFunction;
  public readonly config: EscalationConfig;

  constructor(scope: Construct, id: string, props: EscalateWorkflowProps) {
    super(scope, id);
    const parsed = EscalationConfigSchema.safeParse(props.escalation);
    if (!parsed.success) throw new EscalateWorkflowError(`escalation config is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const cfg = parsed.data;
    this.config = cfg;
    const plans = escalationPlans(cfg);

    const topicArn = (key: string): string => {
      if (key.startsWith('arn:')) return key;
      const topic = props.topics?.[key];
      if (!topic) throw new EscalateWorkflowError(`escalation.yaml names SNS topic "${key}", but the construct has no such topic: pass topics: { '${key}': topic } (known: ${Object.keys(props.topics ?? {}).join(', ') || 'none'})`);
      return topic.topicArn;
    };
    if (plans.some((p) => p.finalAction === 'quarantine') && !props.quarantine) {
      throw new EscalateWorkflowError('escalation.yaml ends a plan with finalAction: quarantine, but no `quarantine` state machine was passed to EscalateWorkflow');
    }

    const fn = taskFunction(this, 'Tasks', {
      entry: join(__dirname, 'handler.ts'),
      wardenTask: ESCALATE_TASK,
      description: 'Warden escalate workflow tasks: notify a tier (Slack, SNS), record acknowledgements',
      environment: {
        [TABLES.approvals.env]: props.approvalsTable.tableName,
        [TABLES.audit.env]: props.auditTable.tableName,
        [SLACK_SECRET_ENV.botToken]: props.slackBotToken.secretArn,
      },
    });
    props.approvalsTable.grantReadWriteData(fn);
    props.auditTable.grantWriteData(fn);
    props.slackBotToken.grantRead(fn);
    this.taskFunction = fn;

    const granted = new Set<string>();
    const grantTopic = (key: string) => {
      const arn = topicArn(key);
      if (granted.has(key)) return;
      granted.add(key);
      const topic = key.startsWith('arn:') ? sns.Topic.fromTopicArn(this, `Topic${granted.size}`, arn) : (props.topics?.[key] as sns.ITopic);
      topic.grantPublish(fn);
    };

    const decision = sfn.JsonPath.objectAt('$.decision');
    const executionId = sfn.JsonPath.stringAt('$$.Execution.Id');
    let longest = 0;

    const chains: { plan: EscalationPlan; start: sfn.IChainable }[] = plans.map((plan) => {
      const prefix = plan.key === 'default' ? '' : `${plan.key} `;
      const cycles = plan.finalAction === 'repeat' ? plan.cycles : 1;
      const waits: Wait[] = [];
      for (let cycle = 1; cycle <= cycles; cycle++) {
        plan.tiers.forEach((tier, tierIndex) => {
          for (let attempt = 1; attempt <= tier.repeats + 1; attempt++) {
            const w = { tier, tierIndex, attempt, cycle };
            waits.push({ ...w, name: waitName(plan, w, tier.repeats + 1, cycles) });
          }
        });
      }
      longest = Math.max(longest, waits.reduce((s, w) => s + tierMaxWait(w.tier), 0));
      const allowedUsers = ackersFor(cfg, plan);

      const acknowledged = new tasks.LambdaInvoke(this, `${prefix}Record acknowledgement`, {
        lambdaFunction: fn, payloadResponseOnly: true, resultPath: '$.acknowledged',
        payload: sfn.TaskInput.fromObject({ task: 'acknowledged', decision, executionId, quietSeconds: cfg.quietPeriod, ack: sfn.JsonPath.objectAt('$.ack') }),
        comment: 'who acknowledged, when; messages updated',
      });
      acknowledged.addRetry({ errors: TRANSIENT_TASK_ERRORS, interval: Duration.seconds(3), backoffRate: 2, maxAttempts: 4 });
      acknowledged.next(new sfn.Succeed(this, `${prefix}Acknowledged`));

      const last = waits[waits.length - 1]!;
      const exhausted = new tasks.LambdaInvoke(this, `${prefix}Record no acknowledgement`, {
        lambdaFunction: fn, payloadResponseOnly: true, resultPath: '$.exhausted',
        payload: sfn.TaskInput.fromObject({
          task: 'exhausted', decision, executionId, plan: plan.key, finalAction: plan.finalAction, quietSeconds: cfg.quietPeriod,
          previous: { stateName: last.name, tier: last.tier.name, outcome: sfn.JsonPath.objectAt('$.lastWait') },
        }),
        comment: `nobody acknowledged; then: ${plan.finalAction}`,
      });
      exhausted.addRetry({ errors: TRANSIENT_TASK_ERRORS, interval: Duration.seconds(3), backoffRate: 2, maxAttempts: 4 });
      const final = plan.finalAction === 'quarantine'
        ? startWorkflow(this, `${prefix}Start quarantine`, props.quarantine!, 'warden.escalate', 'no acknowledgement from any tier: quarantine').next(new sfn.Succeed(this, `${prefix}Quarantine started`))
        : new sfn.Fail(this, `${prefix}Unacknowledged`, { error: 'Warden.Unacknowledged', cause: `no tier acknowledged the escalation (final action: ${plan.finalAction})` });
      exhausted.next(final);
      // a Slack or audit hiccup must never stop the final action
      exhausted.addCatch(final, { errors: ['States.ALL'], resultPath: '$.recordError' });

      let next: sfn.IChainable = exhausted;
      for (let k = waits.length - 1; k >= 0; k--) {
        const w = waits[k]!;
        const prev = waits[k - 1];
        if (w.tier.sns) grantTopic(w.tier.sns);
        const notify = new tasks.LambdaInvoke(this, w.name, {
          lambdaFunction: fn,
          integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
          payload: sfn.TaskInput.fromObject({
            task: 'notify', decision, executionId, taskToken: sfn.JsonPath.taskToken,
            stateName: w.name, plan: plan.key, finalAction: plan.finalAction, allowedUsers,
            tier: {
              index: w.tierIndex, count: plan.tiers.length, name: w.tier.name,
              ...(w.tier.slack?.channel ? { slackChannel: w.tier.slack.channel } : {}),
              slackUsers: w.tier.slack?.users ?? [],
              ...(w.tier.sns ? { snsTopicArn: topicArn(w.tier.sns) } : {}),
              ackTimeoutSeconds: w.tier.ackTimeout, maxWaitSeconds: tierMaxWait(w.tier),
              attempt: w.attempt, attempts: w.tier.repeats + 1, cycle: w.cycle, cycles,
            },
            ...(prev ? { previous: { stateName: prev.name, tier: prev.tier.name, outcome: sfn.JsonPath.objectAt('$.lastWait') } } : {}),
          }),
          heartbeatTimeout: sfn.Timeout.duration(Duration.seconds(w.tier.ackTimeout)),
          taskTimeout: sfn.Timeout.duration(Duration.seconds(tierMaxWait(w.tier))),
          resultPath: '$.ack',
          comment: `notify ${w.tier.name}; wait for Acknowledge ("Looking into it" sends a heartbeat)`,
        });
        notify.addRetry({ errors: TRANSIENT_TASK_ERRORS, interval: Duration.seconds(3), backoffRate: 2, maxAttempts: 3 });
        // no ack in time — or the notice could not be delivered — both move on: silence must never stop an escalation
        notify.addCatch(next, { errors: ['States.ALL'], resultPath: '$.lastWait' });
        notify.next(acknowledged);
        next = notify;
      }
      return { plan, start: next };
    });

    const select = new sfn.Choice(this, 'SelectPlan', { comment: 'first matching override of escalation.yaml, else the default tiers' });
    for (const { plan, start } of chains) {
      if (plan.key === 'default') continue;
      const conds = plan.functions.map((f) => sfn.Condition.stringMatches('$.decision.function.name', f));
      select.when(conds.length === 1 ? conds[0]! : sfn.Condition.or(...conds), start);
    }
    select.otherwise(chains.find((c) => c.plan.key === 'default')!.start);

    const claim = new tasks.LambdaInvoke(this, 'ClaimIncident', {
      lambdaFunction: fn, payloadResponseOnly: true, resultPath: '$.claim',
      payload: sfn.TaskInput.fromObject({ task: 'claim', decision, executionId, holdSeconds: longest }),
      comment: 'one escalation per incident: repeats while it runs (or in its quiet period) end here',
    });
    claim.addRetry({ errors: TRANSIENT_TASK_ERRORS, interval: Duration.seconds(3), backoffRate: 2, maxAttempts: 4 });
    // the de-duplication store being down must not silence an escalation: notify anyway
    claim.addCatch(select, { errors: ['States.ALL'], resultPath: '$.claimError' });
    const duplicate = new sfn.Choice(this, 'AlreadyEscalating')
      .when(sfn.Condition.booleanEquals('$.claim.duplicate', true), new sfn.Succeed(this, 'Duplicate', { comment: 'this incident is already being escalated, or was just now' }))
      .otherwise(select);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      ...(props.stateMachineName ? { stateMachineName: props.stateMachineName } : {}),
      definitionBody: sfn.DefinitionBody.fromChainable(normalizeDecision(this, claim.next(duplicate))),
      timeout: Duration.seconds(longest + 3600),
      tracingEnabled: true,
      logs: stateMachineLogs(this),
      comment: 'Warden: notify escalation tiers until someone acknowledges, then the final action',
    });
  }
}
