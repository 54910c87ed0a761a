import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { join } from 'node:path';
import { TABLES } from '../../../engine/audit/tables';
import { AuditLog } from '../../../engine/audit/audit-log';
import type { DecisionEventDetail } from '../../../engine/events/decision-event';
import { ApprovalWorkflow, type ApprovalWorkflowProps } from '../../../workflows/approval/approval.workflow';
import { DynamoExceptionStore } from '../../../workflows/approval/exception-store';
import { approvalTaskHandlers } from '../../../workflows/approval/tasks';
import { EscalateWorkflow, type EscalateWorkflowProps } from '../../../workflows/escalate/escalate.workflow';
import { escalateTaskHandlers } from '../../../workflows/escalate/tasks';
import { loadEscalationConfig } from '../../../workflows/escalate/escalation-config';
import type { CfnTemplate } from '../../../workflows/local/asl-from-template';
import { LocalRunner, type ExecutionResult } from '../../../workflows/local/runner';
import { SimClock } from '../../../workflows/local/sim-clock';
import type { PendingTask } from '../../../workflows/local/task-tokens';
import { loadApproversConfig, type ApproversConfig } from '../../../workflows/slack/approvers';
import { CallbackStore } from '../../../workflows/slack/callback-store';
import { handleInteraction, type InteractionOutcome } from '../../../workflows/slack/interactivity-core';
import { StaticSlackSecrets } from '../../../workflows/slack/secrets';
import { computeSlackSignature } from '../../../workflows/slack/signature';
import { RecordingSlackPort } from '../../../workflows/slack/slack-port';
import { RecordingSnsPort } from '../../../workflows/slack/sns-port';
import { RegistryTaskCallback } from '../../../workflows/slack/task-callback';
import type { LocalDynamo } from './dynalite-helper';

export const RULES = join(__dirname, '../../../rules');
export const SIGNING_SECRET = 'harness-signing-secret';

export interface SynthOptions {
  approvers?: ApprovalWorkflowProps['approvers'];
  escalation?: EscalateWorkflowProps['escalation'];
  /** CloudFormation schema validation at synth (~15 s here): on in the construct tests, off where only the ASL matters */
  validate?: boolean;
}

/** A tiny stack with only the Slack-side workflows (plus a stand-in quarantine machine), synthesized once per test file. */
export async function synthWorkflows(opts: SynthOptions = {}): Promise<CfnTemplate> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: opts.validate ?? false });
  const stack = new Stack(app, 'SlackWorkflows', { env: { account: '123456789012', region: 'us-east-1' } });
  const table = (id: string, spec: (typeof TABLES)[keyof typeof TABLES]) => new dynamodb.Table(stack, id, {
    tableName: spec.defaultName,
    partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
    ...(spec.sortKey ? { sortKey: { name: spec.sortKey, type: dynamodb.AttributeType.STRING } } : {}),
  });
  const approvalsTable = table('Approvals', TABLES.approvals);
  const exceptionsTable = table('Exceptions', TABLES.exceptions);
  const auditTable = table('Audit', TABLES.audit);
  const slackBotToken = new secretsmanager.Secret(stack, 'BotToken');
  const quarantine = new sfn.StateMachine(stack, 'QuarantineStandIn', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'QuarantineStandInPass')) });
  const topics = { 'oncall-pager': new sns.Topic(stack, 'OncallPager'), 'security-leads': new sns.Topic(stack, 'SecurityLeads') };
  const escalate = new EscalateWorkflow(stack, 'Escalate', {
    escalation: opts.escalation ?? (await loadEscalationConfig(RULES)),
    approvalsTable, auditTable, slackBotToken, topics, quarantine,
  });
  new ApprovalWorkflow(stack, 'Approval', {
    approvers: opts.approvers ?? (await loadApproversConfig(RULES)),
    approvalsTable, exceptionsTable, auditTable, slackBotToken, quarantine, escalate: escalate.stateMachine,
  });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

export function decision(patch: Partial<DecisionEventDetail> = {}): DecisionEventDetail {
  return {
    id: 'evt-1', decisionId: 'dec-1', eventId: 'evt-1', incidentId: 'inc-3f9a1c2b', time: '2026-11-23T18:00:00.000Z',
    verdict: 'unlisted', rule: null, severity: 'medium', response: 'approve', policyVersion: 'sha256:0123abcd',
    function: { name: 'payments-worker', account: '123456789012', region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/payments-worker', tags: {} },
    access: { kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/refunds', host: 'dynamodb.us-east-1.amazonaws.com', port: 443 },
    mode: 'monitor', blocked: false, count: 1,
    reason: 'payments-worker called dynamodb:PutItem on table/refunds, which its allow list does not cover.',
    ...patch,
  };
}
export function asEvent(d: DecisionEventDetail) {
  return { version: '0', id: 'eb-1', 'detail-type': 'Policy Decision', source: 'warden.engine', account: '123456789012', time: d.time, region: 'us-east-1', resources: [], detail: d };
}

export interface Harness {
  runner: LocalRunner;
  clock: SimClock;
  slack: RecordingSlackPort;
  sns: RecordingSnsPort;
  store: CallbackStore;
  audit: AuditLog;
  doc: LocalDynamo['doc'];
  approvers: ApproversConfig;
  started: { stateMachineArn: string; input: unknown }[];
  /** clicks a button as a Slack user would: a signed request through the interactivity core */
  click(actionId: string, value: string, user: string): Promise<InteractionOutcome>;
  /** run `act` when a callback task of the given state starts waiting (after its Lambda stored the item) */
  whenWaiting(pred: (t: PendingTask) => boolean, act: (t: PendingTask, approvalId: string) => Promise<unknown>): void;
  outcomes: InteractionOutcome[];
  close(): Promise<void>;
}

export async function makeHarness(template: CfnTemplate, db: LocalDynamo): Promise<Harness> {
  const clock = new SimClock('2026-11-23T18:00:00.000Z');
  const slack = new RecordingSlackPort();
  const snsPort = new RecordingSnsPort();
  const store = new CallbackStore(db.doc, TABLES.approvals.defaultName);
  const audit = new AuditLog({ doc: db.doc, tableName: TABLES.audit.defaultName, clock });
  const approvers = await loadApproversConfig(RULES);
  const started: Harness['started'] = [];
  const runner = new LocalRunner({
    template,
    clock,
    lambdaHandlers: {
      ...approvalTaskHandlers({ store, slack, audit, clock, approvers, exceptions: new DynamoExceptionStore(db.doc, TABLES.exceptions.defaultName) }),
      ...escalateTaskHandlers({ store, slack, sns: snsPort, audit, clock }),
    },
    integrations: {
      'states:startExecution': (params) => {
        const p = params as { StateMachineArn: string; Input: unknown };
        started.push({ stateMachineArn: p.StateMachineArn, input: typeof p.Input === 'string' ? JSON.parse(p.Input) : p.Input });
        return { ExecutionArn: `${p.StateMachineArn.replace(':stateMachine:', ':execution:')}:started-${started.length}`, StartDate: clock.iso() };
      },
    },
  });
  const interactivity = {
    secrets: new StaticSlackSecrets({ signingSecrets: [SIGNING_SECRET], botToken: 'xoxb-local' }),
    store, slack, approvers, audit, clock,
    callbacks: new RegistryTaskCallback(runner.tokens),
  };
  const outcomes: InteractionOutcome[] = [];
  const click = async (actionId: string, value: string, user: string) => {
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: user }, response_url: 'https://hooks.slack.com/actions/T/1/x', actions: [{ action_id: actionId, value }] }))}`;
    const ts = String(Math.floor(clock.nowMs() / 1000));
    const { outcome } = await handleInteraction({
      headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': computeSlackSignature(SIGNING_SECRET, ts, Buffer.from(body)) },
      body, isBase64Encoded: false, requestContext: { http: { method: 'POST' } },
    }, interactivity);
    outcomes.push(outcome);
    return outcome;
  };
  const whenWaiting: Harness['whenWaiting'] = (pred, act) => {
    runner.tokens.onRegistered(async (t) => {
      if (!pred(t)) return;
      const payload = t.payload as { task: string; executionId: string; stateName: string };
      const { callbackIdFor } = await import('../../../workflows/slack/callback-store');
      const id = callbackIdFor(payload.task === 'request' ? 'approval' : 'ack', payload.executionId, payload.stateName);
      // the task's Lambda runs right after the wait registers: let it store the item first
      for (let i = 0; i < 200; i++) {
        const item = await store.get(id);
        if (item?.messages.length) break;
        await new Promise((r) => setImmediate(r));
      }
      await act(t, id);
    });
  };
  return { runner, clock, slack, sns: snsPort, store, audit, doc: db.doc, approvers, started, click, whenWaiting, outcomes, close: async () => undefined };
}

export function statesOf(r: ExecutionResult): string[] {
  return r.path;
}

/** The value of a button in a recorded Slack message (what Slack would send back on a click). */
export function buttonValue(slack: RecordingSlackPort, actionId: string, nth = 0): string {
  const posts = slack.calls.filter((c) => c.kind === 'post' && JSON.stringify(c.blocks).includes(actionId));
  const post = posts[nth];
  if (!post) throw new Error(`no posted message with a ${actionId} button (#${nth})`);
  const m = new RegExp(`"action_id":"${actionId}","value":"([^"]+)"`).exec(JSON.stringify(post.blocks));
  if (!m) throw new Error(`button ${actionId} has no value`);
  return m[1]!;
}
