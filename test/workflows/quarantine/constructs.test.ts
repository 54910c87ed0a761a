import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import { stateMachinesFromTemplate, type CfnTemplate } from '../../../workflows/local/asl-from-template';
import { allStates } from '../../../workflows/local/runner';
import { QuarantineWorkflow } from '../../../workflows/quarantine/quarantine.workflow';
import { RestoreWorkflow } from '../../../workflows/restore/restore.workflow';
import { synthResponseStack } from './harness';

describe('QuarantineWorkflow / RestoreWorkflow constructs', () => {
  let template: Template;
  beforeAll(() => { template = Template.fromJSON(synthResponseStack() as Record<string, unknown>); });

  it('every task Lambda carries WARDEN_TASK and the guardrail env', () => {
    for (const task of ['quarantine.plan', 'quarantine.snapshot', 'quarantine.tag', 'quarantine.detach', 'quarantine.contain', 'quarantine.report', 'quarantine.failed', 'restore.plan', 'restore.apply', 'restore.report', 'restore.failed']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Environment: { Variables: Match.objectLike({ WARDEN_TASK: task, WARDEN_PROTECTED_TAG: 'warden:protected', WARDEN_COMPONENT_TAG: 'warden:component', WARDEN_OWN_NAME_PREFIXES: 'warden-' }) },
      });
    }
  });

  it('every Task retries throttling with backoff and is caught into the failure path', () => {
    const machines = stateMachinesFromTemplate(template.toJSON() as CfnTemplate);
    expect(machines).toHaveLength(2);
    for (const m of machines) {
      for (const [name, s] of allStates(m.definition as never)) {
        if (s.Type !== 'Task') continue;
        const retry = s.Retry as { ErrorEquals: string[]; BackoffRate: number }[];
        expect({ name, throttling: retry?.some((r) => r.ErrorEquals.includes('Warden.Throttling') && r.BackoffRate === 2) }).toEqual({ name, throttling: true });
        const catchers = (s.Catch as { ErrorEquals: string[] }[] | undefined) ?? [];
        expect({ name, caught: catchers.some((c) => c.ErrorEquals.includes('States.ALL')) }).toEqual({ name, caught: true });
      }
    }
  });

  it("the deny-all goes through aws-sdk:iam, and the state machine role may never change Warden's own roles", () => {
    const [q] = stateMachinesFromTemplate(template.toJSON() as CfnTemplate).filter((m) => m.logicalId.startsWith('Quarantine'));
    expect((q!.definition.States as Record<string, { Resource?: string }>).PutDenyAllPolicy!.Resource).toBe('arn:aws:states:::aws-sdk:iam:putRolePolicy');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'NeverTouchWardenRoles', Effect: 'Deny', Condition: { StringLike: { 'iam:ResourceTag/warden:component': '*' } } })]) },
      Roles: Match.arrayWith([Match.objectLike({ Ref: Match.stringLikeRegexp('^QuarantineStateMachineRole') })]),
    });
  });

  it('tags its own resources as Warden components, so guardrails refuse them', () => {
    template.hasResourceProperties('AWS::IAM::Role', { Tags: Match.arrayWith([{ Key: 'warden:component', Value: 'quarantine' }]) });
    template.hasResourceProperties('AWS::Lambda::Function', { Tags: Match.arrayWith([{ Key: 'warden:component', Value: 'restore' }]) });
  });

  describe('rejects bad props at synth time', () => {
    const props = () => {
      const stack = new Stack(new App(), 'S');
      const t = new dynamodb.TableV2(stack, 'T', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
      return { stack, base: { snapshotsTable: t, auditTable: t, topic: new sns.Topic(stack, 'N') } };
    };
    it('empty tag keys', () => {
      const { stack, base } = props();
      expect(() => new QuarantineWorkflow(stack, 'Q', { ...base, guardrails: { protectedTag: '' } })).toThrow(/non-empty tag keys/);
    });
    it('commas in listed names', () => {
      const { stack, base } = props();
      expect(() => new RestoreWorkflow(stack, 'R', { ...base, guardrails: { listedFunctions: ['a,b'] } })).toThrow(/may not contain commas/);
    });
    it('a listed-functions list too large for a Lambda environment', () => {
      const { stack, base } = props();
      expect(() => new QuarantineWorkflow(stack, 'Q', { ...base, guardrails: { listedFunctions: Array.from({ length: 300 }, (_, i) => `function-number-${i}`) } })).toThrow(/use globs/);
    });
  });
});
