import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { timeoutMatchDivergences } from '../../../workflows/local/asl-guard';
import { stateMachinesFromTemplate, type CfnTemplate } from '../../../workflows/local/asl-from-template';
import { LocalRunner } from '../../../workflows/local/runner';
import { synthesizedTemplate } from '../../infra/template';

const task = (extra: Record<string, unknown>) => ({
  StartAt: 'T',
  States: { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', End: true, ...extra }, A: { Type: 'Succeed' }, B: { Type: 'Succeed' } },
});

describe('guard: States.TaskFailed must not stand in for States.Timeout (AWS never matches it, the local engine would)', () => {
  it('no synthesized Warden workflow has such a matcher', () => {
    for (const m of stateMachinesFromTemplate(synthesizedTemplate() as CfnTemplate)) {
      expect({ id: m.logicalId, found: timeoutMatchDivergences(m.definition) }).toEqual({ id: m.logicalId, found: [] });
    }
  });

  it('flags a TaskFailed catcher or retrier placed before the one naming States.Timeout, or with none', () => {
    const before = task({ TimeoutSeconds: 60, Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'A' }, { ErrorEquals: ['States.Timeout'], Next: 'B' }] });
    expect(timeoutMatchDivergences(before)).toEqual(['$.States.T.Catch[0]: States.TaskFailed on a Task with a timeout, before any catcher naming States.Timeout']);
    const none = task({ TimeoutSecondsPath: '$.t', Retry: [{ ErrorEquals: ['States.TaskFailed'], MaxAttempts: 2 }] });
    expect(timeoutMatchDivergences(none)).toEqual(['$.States.T.Retry[0]: States.TaskFailed on a Task with a timeout, before any retrier naming States.Timeout']);
  });

  it('accepts the timeout named first or in the same matcher, and tasks without a timeout', () => {
    expect(timeoutMatchDivergences(task({ TimeoutSeconds: 60, Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'B' }, { ErrorEquals: ['States.TaskFailed'], Next: 'A' }] }))).toEqual([]);
    expect(timeoutMatchDivergences(task({ TimeoutSeconds: 60, Catch: [{ ErrorEquals: ['States.TaskFailed', 'States.Timeout'], Next: 'A' }] }))).toEqual([]);
    // HeartbeatTimeout IS matched by States.TaskFailed on AWS too: no divergence
    expect(timeoutMatchDivergences(task({ HeartbeatSeconds: 60, Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'A' }] }))).toEqual([]);
  });

  it('looks inside Parallel branches', () => {
    const def = { StartAt: 'P', States: { P: { Type: 'Parallel', End: true, Branches: [task({ TimeoutSeconds: 5, Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'A' }] })] } } };
    expect(timeoutMatchDivergences(def)).toEqual(['$.States.P.Branches[0].States.T.Catch[0]: States.TaskFailed on a Task with a timeout, before any catcher naming States.Timeout']);
  });

  it('the runner refuses to run such a definition', async () => {
    const stack = new Stack(new App(), 'BadTimeout');
    const wait = new sfn.CustomState(stack, 'W', {
      stateJson: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', TimeoutSeconds: Duration.minutes(1).toSeconds(), Parameters: { 'Token.$': '$$.Task.Token' } },
    });
    wait.addCatch(new sfn.Succeed(stack, 'Failed'), { errors: ['States.TaskFailed'] });
    new sfn.StateMachine(stack, 'SM', { definitionBody: sfn.DefinitionBody.fromChainable(wait) });
    const runner = new LocalRunner({ template: Template.fromStack(stack).toJSON() as CfnTemplate });
    await expect(runner.run('SM', {})).rejects.toThrow(/handle a task timeout differently here than on AWS/);
  });
});
