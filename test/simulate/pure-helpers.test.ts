import { SimulatedAccount } from '../../workflows/local/simulated-account';
import { accountSpecFromScenario, captureState, roleArnOf, sameState, stateFromSnapshot, summarizeState } from '../../engine/local/simulate/account';
import { makeSnapshot } from '../../workflows/common/snapshot';
import { simulatedAccountPort } from '../../workflows/local/simulated-account-port';
import { parseScenario } from '../../engine/local/simulate/scenario';
import { outcomeOf, subjectOf, workflowOf } from '../../engine/local/simulate/workflow-names';

const scenario = parseScenario(`
name: t
functions:
  orders-api:
    concurrency: 50
    tags: { team: orders }
    role:
      path: /app/
      managedPolicies: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]
      inlinePolicies:
        data: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "dynamodb:GetItem", Resource: "*" }] }
  worker-a: { role: { name: shared-role } }
  worker-b: { role: { name: shared-role } }
timeline: [{ at: 0, note: x }]
`);

describe('simulated account from a scenario', () => {
  it('creates one role per function (or a shared named role) and the functions with their concurrency and tags', () => {
    const account = new SimulatedAccount(accountSpecFromScenario(scenario));
    expect(account.roleNames().sort()).toEqual(['orders-api', 'shared-role']);
    expect(account.describeFunction('orders-api')).toMatchObject({ reservedConcurrency: 50, tags: { team: 'orders' }, roleArn: 'arn:aws:iam::123456789012:role/app/orders-api' });
    expect(account.describeFunction('worker-b').roleArn).toBe('arn:aws:iam::123456789012:role/shared-role');
    expect(roleArnOf(scenario, 'orders-api')).toBe('arn:aws:iam::123456789012:role/app/orders-api');
  });

  it('compares captured states by value: a put-back policy with other key order is the same state', async () => {
    const account = new SimulatedAccount(accountSpecFromScenario(scenario));
    const before = captureState(account, scenario, 'orders-api');
    expect(summarizeState(before)).toEqual({ inlinePolicies: ['data'], managedPolicies: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'], concurrency: 50 });
    await account.call('iam', 'putRolePolicy', { RoleName: 'orders-api', PolicyName: 'data', PolicyDocument: JSON.stringify({ Statement: [{ Resource: '*', Action: 'dynamodb:GetItem', Effect: 'Allow' }], Version: '2012-10-17' }) });
    expect(sameState(before, captureState(account, scenario, 'orders-api'))).toBe(true);
    await account.call('lambda', 'putFunctionConcurrency', { FunctionName: 'orders-api', ReservedConcurrentExecutions: 0 });
    expect(sameState(before, captureState(account, scenario, 'orders-api'))).toBe(false);
    await account.call('lambda', 'putFunctionConcurrency', { FunctionName: 'orders-api', ReservedConcurrentExecutions: 50 });
    await account.call('iam', 'tagRole', { RoleName: 'orders-api', Tags: [{ Key: 'warden:incident', Value: 'i1' }] });
    expect(sameState(before, captureState(account, scenario, 'orders-api'))).toBe(false);
  });
});

describe('snapshots', () => {
  it('a snapshot taken by the workflows describes the same state as the simulation captures', async () => {
    const account = new SimulatedAccount(accountSpecFromScenario(scenario));
    const port = simulatedAccountPort(account);
    const fn = await port.getFunction('orders-api');
    const role = await port.getRole('orders-api');
    const snap = makeSnapshot('inc-1', '2026-11-23T09:00:00Z', fn, role, true);
    expect(sameState(stateFromSnapshot(snap), captureState(account, scenario, 'orders-api'))).toBe(true);
    await account.call('iam', 'detachRolePolicy', { RoleName: 'orders-api', PolicyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' });
    expect(sameState(stateFromSnapshot(snap), captureState(account, scenario, 'orders-api'))).toBe(false);
  });
});

describe('workflow names and subjects', () => {
  it('recognises Warden workflows by construct path or logical id', () => {
    expect(workflowOf({ logicalId: 'WardenQuarantineStateMachineBEAF9741' })).toBe('quarantine');
    expect(workflowOf({ logicalId: 'X', path: 'Stack/Warden/Escalate/StateMachine/Resource' })).toBe('escalate');
    expect(workflowOf({ logicalId: 'SomethingElse' })).toBeNull();
  });

  it('finds the function and incident in a decision, its detail or a workflow input', () => {
    expect(subjectOf({ detail: { function: { name: 'orders-api' }, incidentId: 'inc-1' } })).toEqual({ functionName: 'orders-api', incidentId: 'inc-1' });
    expect(subjectOf({ incidentId: 'inc-2', functionName: 'payments-worker' })).toEqual({ functionName: 'payments-worker', incidentId: 'inc-2' });
    expect(subjectOf({ incidentId: 'inc-3' })).toEqual({ functionName: null, incidentId: 'inc-3' });
    expect(subjectOf('x')).toEqual({ functionName: null, incidentId: null });
  });

  it("takes a workflow's own word for how it ended", () => {
    expect(outcomeOf({ status: 'quarantined' })).toBe('quarantined');
    expect(outcomeOf({ report: { outcome: 'restored' } })).toBe('restored');
    expect(outcomeOf({ n: 1 })).toBeNull();
    expect(outcomeOf(null)).toBeNull();
  });
});
