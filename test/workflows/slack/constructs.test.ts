import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ApprovalWorkflow } from '../../../workflows/approval/approval.workflow';
import { EscalateWorkflow } from '../../../workflows/escalate/escalate.workflow';
import { stateMachinesFromTemplate, type CfnTemplate } from '../../../workflows/local/asl-from-template';
import { allStates } from '../../../workflows/local/runner';
import { loadApproversConfig, type ApproversConfigInput } from '../../../workflows/slack/approvers';
import { loadEscalationConfig, type EscalationConfigInput } from '../../../workflows/escalate/escalation-config';
import { RULES } from './harness';

function baseStack() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'us-east-1' } });
  const t = (id: string, pk: string, sk?: string) => new dynamodb.Table(stack, id, { partitionKey: { name: pk, type: dynamodb.AttributeType.STRING }, ...(sk ? { sortKey: { name: sk, type: dynamodb.AttributeType.STRING } } : {}) });
  return {
    stack,
    approvalsTable: t('Approvals', 'approvalId'),
    exceptionsTable: t('Exceptions', 'functionName', 'exceptionId'),
    auditTable: t('Audit', 'pk', 'sk'),
    slackBotToken: new secretsmanager.Secret(stack, 'Bot'),
    signingSecret: new secretsmanager.Secret(stack, 'Signing'),
    quarantine: new sfn.StateMachine(stack, 'Q', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'P')) }),
  };
}

describe('workflow constructs (synth)', () => {
  let template: CfnTemplate;
  let tpl: Template;
  beforeAll(async () => {
    // CloudFormation schema validation (~25 s on this machine) runs in the infra suite's one full synth
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Full', { env: { account: '123456789012', region: 'us-east-1' } });
    const t = (id: string, pk: string, sk?: string) => new dynamodb.Table(stack, id, { partitionKey: { name: pk, type: dynamodb.AttributeType.STRING }, ...(sk ? { sortKey: { name: sk, type: dynamodb.AttributeType.STRING } } : {}) });
    const approvalsTable = t('Approvals', 'approvalId');
    const auditTable = t('Audit', 'pk', 'sk');
    const slackBotToken = new secretsmanager.Secret(stack, 'Bot');
    const quarantine = new sfn.StateMachine(stack, 'Q', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'P')) });
    const escalate = new EscalateWorkflow(stack, 'Escalate', {
      escalation: await loadEscalationConfig(RULES), approvalsTable, auditTable, slackBotToken, quarantine,
      topics: { 'oncall-pager': new sns.Topic(stack, 'T1'), 'security-leads': new sns.Topic(stack, 'T2') },
    });
    const approvers = await loadApproversConfig(RULES);
    new ApprovalWorkflow(stack, 'Approval', { approvers, approvalsTable, auditTable, exceptionsTable: t('Exceptions', 'functionName', 'exceptionId'), slackBotToken, quarantine, escalate: escalate.stateMachine });
    tpl = Template.fromStack(stack);
    template = tpl.toJSON() as CfnTemplate;
  });

  it('every callback step has TimeoutSeconds and a smaller HeartbeatSeconds', () => {
    const waits = stateMachinesFromTemplate(template).filter((m) => !m.logicalId.startsWith('Q')).flatMap((m) => allStates(m.definition as never))
      .filter(([, s]) => String(s.Resource).endsWith('.waitForTaskToken'));
    expect(waits.length).toBeGreaterThanOrEqual(1 + 8 + 2 + 4);
    for (const [name, s] of waits) {
      expect({ name, timeout: typeof s.TimeoutSeconds, heartbeat: typeof s.HeartbeatSeconds }).toEqual({ name, timeout: 'number', heartbeat: 'number' });
      expect(s.HeartbeatSeconds as number).toBeLessThan(s.TimeoutSeconds as number);
    }
    const request = waits.find(([n]) => n === 'RequestApproval')![1];
    expect([request.HeartbeatSeconds, request.TimeoutSeconds]).toEqual([3600, 14400]);
  });

  it('definitions use JSONPath only (no JSONata, no Assign) and never put the task token anywhere but the Lambda payload', () => {
    for (const m of stateMachinesFromTemplate(template)) {
      const text = JSON.stringify(m.definition);
      expect(text).not.toMatch(/"QueryLanguage"|"Assign"|\{%/);
      for (const [, s] of allStates(m.definition as never)) {
        const params = JSON.stringify(s.Parameters ?? {});
        if (params.includes('$$.Task.Token')) expect((s.Parameters as { Payload: Record<string, unknown> }).Payload['taskToken.$']).toBe('$$.Task.Token');
      }
    }
  });

  it('Lambdas get secret ARNs and table names, never secret values; machines are traced and logged without execution data', () => {
    const fns = tpl.findResources('AWS::Lambda::Function');
    const envs = Object.values(fns).map((f) => (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables ?? {});
    const ours = envs.filter((e) => typeof e.WARDEN_TASK === 'string');
    expect(ours.map((e) => e.WARDEN_TASK).sort()).toEqual(['approval.tasks', 'escalate.tasks']);
    for (const e of ours) {
      expect(JSON.stringify(e)).not.toMatch(/xoxb-|SecretString/);
      for (const [k, v] of Object.entries(e)) if (k.endsWith('_ARN')) expect(JSON.stringify(v)).toMatch(/Ref/);
    }
    tpl.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true }, LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }) });
  });

  it('the escalate machine routes plans by function glob', () => {
    const esc = stateMachinesFromTemplate(template).find((m) => m.logicalId.startsWith('Escalate'))!;
    const choice = (esc.definition as { States: Record<string, { Choices?: unknown[] }> }).States.SelectPlan!;
    expect(JSON.stringify(choice.Choices)).toContain('"StringMatches":"image-*"');
    expect(JSON.stringify(choice.Choices)).toContain('"StringMatches":"orders-*"');
  });
});

describe('workflow constructs reject bad props at synth time', () => {
  it('approval: a follow-up without its state machine', async () => {
    const b = baseStack();
    const approvers: ApproversConfigInput = { approval: { channel: 'C0AAAAAAA', onDeny: 'quarantine' }, admins: ['U0AAAAAAA'] };
    expect(() => new ApprovalWorkflow(b.stack, 'A', { ...b, approvers, quarantine: undefined })).toThrow(/no `quarantine` state machine/);
    expect(() => new ApprovalWorkflow(b.stack, 'B', { ...b, approvers: { ...approvers, approval: { channel: 'C0AAAAAAA', onDeny: 'none', onTimeout: 'escalate' } } })).toThrow(/no `escalate` state machine/);
  });

  it('approval: an invalid config, and one too big for a Lambda environment', () => {
    const b = baseStack();
    expect(() => new ApprovalWorkflow(b.stack, 'A', { ...b, approvers: { approval: { channel: '#general' } } as ApproversConfigInput })).toThrow(/approval.channel: must be a Slack channel id/);
    const groups = Array.from({ length: 60 }, (_, i) => ({ functions: [`function-number-${i}`], approvers: ['U0AAAAAAA', 'U0BBBBBBB', 'U0CCCCCCC'] }));
    expect(() => new ApprovalWorkflow(b.stack, 'B', { ...b, approvers: { approval: { channel: 'C0AAAAAAA' }, groups } })).toThrow(/Lambda environments hold 4 KB/);
  });

  it('escalate: an unknown topic key, quarantine without a state machine, an invalid config', () => {
    const b = baseStack();
    const escalation: EscalationConfigInput = { tiers: [{ name: 't1', sns: 'pager', ackTimeout: 60 }], finalAction: 'none' };
    expect(() => new EscalateWorkflow(b.stack, 'A', { ...b, escalation })).toThrow(/names SNS topic "pager".*topics: \{ 'pager': topic \}/);
    expect(() => new EscalateWorkflow(b.stack, 'B', { ...b, escalation: { ...escalation, finalAction: 'quarantine' }, topics: { pager: new sns.Topic(b.stack, 'T') }, quarantine: undefined })).toThrow(/no `quarantine` state machine/);
    expect(() => new EscalateWorkflow(b.stack, 'C', { ...b, escalation: { tiers: [] } })).toThrow(/escalation config is invalid: tiers: list at least one tier/);
  });
});
