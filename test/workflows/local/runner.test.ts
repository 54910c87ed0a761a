import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { LocalRunner, formatTrace } from '../../../workflows/local/runner';
import { SimClock } from '../../../workflows/local/sim-clock';
import { SimulatedAccount } from '../../../workflows/local/simulated-account';
import type { CfnTemplate } from '../../../workflows/local/asl-from-template';

/** A tiny machine exercising every kind of Task the runner serves. */
function synthDemo(): CfnTemplate {
  const app = new App();
  const stack = new Stack(app, 'Demo');
  const fn = (id: string, task: string) => new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    environment: { WARDEN_TASK: task },
  });
  const hello = new tasks.LambdaInvoke(stack, 'Hello', { lambdaFunction: fn('HelloFn', 'demo.hello'), resultSelector: { 'greeting.$': '$.Payload.greeting' }, resultPath: '$.hello' });
  const deny = new tasks.CallAwsService(stack, 'PutDeny', {
    service: 'iam', action: 'putRolePolicy', iamResources: ['*'],
    parameters: { RoleName: sfn.JsonPath.stringAt('$.role'), PolicyName: 'warden-quarantine', PolicyDocument: '{"Version":"2012-10-17","Statement":[]}' },
    resultPath: sfn.JsonPath.DISCARD,
  });
  deny.addRetry({ errors: ['Iam.ThrottlingException'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 3 });
  const wait = new sfn.Wait(stack, 'WaitAnHour', { time: sfn.WaitTime.duration(Duration.hours(1)) });
  const ask = new tasks.LambdaInvoke(stack, 'Ask', {
    lambdaFunction: fn('AskFn', 'demo.ask'), integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken, question: 'approve?' }),
    taskTimeout: sfn.Timeout.duration(Duration.hours(2)), heartbeatTimeout: sfn.Timeout.duration(Duration.hours(1)), resultPath: '$.answer',
  });
  const failed = new sfn.Fail(stack, 'Failed', { error: 'Demo.Failed', cause: 'deny policy could not be put' });
  const timedOut = new sfn.Pass(stack, 'TimedOut', { result: sfn.Result.fromString('timeout'), resultPath: '$.answer' });
  deny.addCatch(failed, { errors: ['States.ALL'] });
  ask.addCatch(timedOut, { errors: ['States.Timeout', 'States.HeartbeatTimeout'], resultPath: '$.timeout' });
  new sfn.StateMachine(stack, 'Demo', { definitionBody: sfn.DefinitionBody.fromChainable(hello.next(deny).next(wait).next(ask)) });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

describe('LocalRunner on a synthesized definition', () => {
  let template: CfnTemplate;
  beforeAll(() => { template = synthDemo(); });

  const make = () => {
    const clock = new SimClock('2026-11-23T18:00:00.000Z');
    const account = new SimulatedAccount({ roles: [{ name: 'orders-api' }] });
    const runner = new LocalRunner({
      template, clock, account,
      lambdaHandlers: { 'demo.hello': (p) => ({ greeting: `hello ${String((p as { role: string }).role)}` }), 'demo.ask': () => ({}) },
    });
    return { clock, account, runner };
  };

  it('serves lambda:invoke, aws-sdk and waitForTaskToken tasks; Wait passes on the simulated clock', async () => {
    const { runner, account, clock } = make();
    runner.tokens.onRegistered((t) => { runner.tokens.sendTaskSuccess({ taskToken: t.token, output: JSON.stringify({ approved: true, payload: t.payload }) }); });
    const r = await runner.run('Demo', { role: 'orders-api' });
    expect(r.status).toBe('SUCCEEDED');
    expect(r.simulated).toBe(true);
    expect(r.path).toEqual(['Hello', 'PutDeny', 'WaitAnHour', 'Ask']);
    const out = r.output as { hello: { greeting: string }; answer: { approved: boolean; payload: { question: string; token: string } } };
    expect(out.hello.greeting).toBe('hello orders-api');
    expect(out.answer.approved).toBe(true);
    expect(out.answer.payload.question).toBe('approve?');
    expect(out.answer.payload.token).toMatch(/^sim-token-/);
    expect(account.describeRole('orders-api').inlinePolicies['warden-quarantine']).toBeDefined();
    expect(account.mutations().map((a) => `${a.service}:${a.operation}`)).toEqual(['iam:putRolePolicy']);
    expect(clock.iso()).toBe('2026-11-23T19:00:00.000Z');
    expect(formatTrace(r)).toContain('SIMULATED');
  });

  it('retries IAM throttling with backoff on the simulated clock', async () => {
    const { runner, account, clock } = make();
    account.injectFault({ service: 'iam', operation: 'putRolePolicy', code: 'Throttling', times: 2 });
    runner.tokens.onRegistered((t) => { runner.tokens.sendTaskSuccess({ taskToken: t.token, output: '{}' }); });
    const r = await runner.run('Demo', { role: 'orders-api' });
    expect(r.status).toBe('SUCCEEDED');
    expect(r.trace.filter((t) => t.kind === 'retry').map((t) => t.message)).toEqual([
      'Iam.ThrottlingException: retrying after 2 s (simulated backoff)',
      'Iam.ThrottlingException: retrying after 4 s (simulated backoff)',
    ]);
    expect(clock.nowMs() - Date.parse('2026-11-23T18:00:00.000Z')).toBe((6 + 3600) * 1000);
  });

  it('fails through Catch when the integration errors (AccessDenied)', async () => {
    const { runner, account } = make();
    account.injectFault({ service: 'iam', operation: 'putRolePolicy', code: 'AccessDenied' });
    const r = await runner.run('Demo', { role: 'orders-api' });
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Demo.Failed');
    expect(r.path).toEqual(['Hello', 'PutDeny', 'Failed']);
  });

  it('times out an unanswered callback on the simulated clock (heartbeat first), catchable', async () => {
    const { runner, clock } = make();
    const r = await runner.run('Demo', { role: 'orders-api' });
    expect(r.status).toBe('SUCCEEDED');
    expect((r.output as { timeout: { Error: string } }).timeout.Error).toBe('States.HeartbeatTimeout');
    expect(clock.iso()).toBe('2026-11-23T20:00:00.000Z');
  });

  it('answers a late SendTaskSuccess with TaskTimedOut', async () => {
    const { runner } = make();
    let token = '';
    runner.tokens.onRegistered((t) => { token = t.token; });
    await runner.run('Demo', { role: 'orders-api' });
    expect(() => runner.tokens.sendTaskSuccess({ taskToken: token, output: '{}' })).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });

  it('reports a Lambda function error as Step Functions does (Error = name, Cause = errorType/errorMessage JSON)', async () => {
    class OrdersError extends Error { constructor(m: string) { super(m); this.name = 'Orders.Broken'; } }
    const runner = new LocalRunner({ template, lambdaHandlers: { 'demo.hello': () => { throw new OrdersError('no greeting today'); }, 'demo.ask': () => ({}) } });
    const r = await runner.run('Demo', { role: 'orders-api' });
    expect(r.status).toBe('FAILED');
    expect(r.error).toBe('Orders.Broken');
    expect(JSON.parse(r.cause!)).toEqual({ errorType: 'Orders.Broken', errorMessage: 'no greeting today' });
    expect(r.trace.map((t) => t.message)).toContain('failed: Orders.Broken');
  });

  it('serves an integration from the integrations option when given (overriding the simulated account)', async () => {
    const { account, clock } = make();
    const calls: unknown[] = [];
    const runner = new LocalRunner({
      template, account, clock,
      lambdaHandlers: { 'demo.hello': () => ({ greeting: 'hi' }), 'demo.ask': () => ({}) },
      integrations: { 'aws-sdk:iam:putRolePolicy': (params) => { calls.push(params); return {}; } },
    });
    runner.tokens.onRegistered((t) => { runner.tokens.sendTaskSuccess({ taskToken: t.token, output: '{}' }); });
    expect((await runner.run('Demo', { role: 'orders-api' })).status).toBe('SUCCEEDED');
    expect(calls).toEqual([{ RoleName: 'orders-api', PolicyName: 'warden-quarantine', PolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }]);
    expect(account.mutations()).toEqual([]);
  });

  it('refuses a machine whose tasks it cannot serve, saying which', async () => {
    const runner = new LocalRunner({ template, lambdaHandlers: {} });
    await expect(runner.run('Demo', {})).rejects.toThrow(/no local handler for WARDEN_TASK=demo.hello/);
  });
});
