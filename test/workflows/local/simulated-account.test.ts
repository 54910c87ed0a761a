import { SimulatedAccount, SimulatedAccountError } from '../../../workflows/local/simulated-account';

describe('SimulatedAccount', () => {
  const make = () => new SimulatedAccount({
    managedPolicies: [{ name: 'p1' }, { name: 'p2' }],
    roles: [{ name: 'r', attachedPolicies: ['p1'], inlinePolicies: { inline: { Version: '2012-10-17', Statement: [] } }, permissionsBoundary: 'p2', tags: { a: '1' } }],
    functions: [{ name: 'f', role: 'r', reservedConcurrency: 4, tags: { t: 'x' } }],
    eventSourceMappings: [{ uuid: 'm1', function: 'f', eventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:q' }],
  });

  it('serves aws-sdk integration names with PascalCase params and responses', async () => {
    const a = make();
    expect(await a.call('iam', 'listAttachedRolePolicies', { RoleName: 'r' })).toEqual({ AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::123456789012:policy/p1', PolicyName: 'p1' }], IsTruncated: false });
    expect(await a.call('lambda', 'getFunction', { FunctionName: 'f' })).toMatchObject({ Configuration: { FunctionName: 'f', Role: 'arn:aws:iam::123456789012:role/r' }, Concurrency: { ReservedConcurrentExecutions: 4 }, Tags: { t: 'x' } });
    expect(a.supportedOperations()).toEqual(expect.arrayContaining(['iam:putRolePolicy', 'iam:detachRolePolicy', 'lambda:putFunctionConcurrency', 'lambda:updateEventSourceMapping']));
  });

  it('raises IAM-like errors with Step Functions error names', async () => {
    const a = make();
    await expect(a.call('iam', 'getRole', { RoleName: 'nope' })).rejects.toMatchObject({ name: 'NoSuchEntityException', code: 'NoSuchEntity', stepFunctionsError: 'Iam.NoSuchEntityException' });
    await expect(a.call('lambda', 'getFunction', { FunctionName: 'nope' })).rejects.toMatchObject({ stepFunctionsError: 'Lambda.ResourceNotFoundException' });
    await expect(a.call('iam', 'putRolePolicy', { RoleName: 'r', PolicyName: 'x', PolicyDocument: '{not json' })).rejects.toMatchObject({ code: 'InvalidInput' });
    await expect(a.call('iam', 'createRole', {})).rejects.toThrow(/does not implement iam:createRole/);
  });

  it('enforces the managed-policy quota (10 by default, configurable)', async () => {
    const a = new SimulatedAccount({ maxManagedPoliciesPerRole: 1, managedPolicies: [{ name: 'p1' }, { name: 'p2' }], roles: [{ name: 'r', attachedPolicies: ['p1'] }] });
    await expect(a.call('iam', 'attachRolePolicy', { RoleName: 'r', PolicyArn: 'arn:aws:iam::123456789012:policy/p2' })).rejects.toMatchObject({ stepFunctionsError: 'Iam.LimitExceededException' });
    // the inline policy is no managed policy: allowed at the quota
    await a.call('iam', 'putRolePolicy', { RoleName: 'r', PolicyName: 'deny', PolicyDocument: '{}' });
    expect(() => new SimulatedAccount({ roles: [{ name: 'r', attachedPolicies: Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`) }] })).toThrow(SimulatedAccountError);
  });

  it('injects faults a given number of times and records every call as simulated', async () => {
    const a = make();
    a.injectFault({ service: 'iam', operation: 'detachRolePolicy', code: 'AccessDenied', times: 1 });
    await expect(a.call('iam', 'detachRolePolicy', { RoleName: 'r', PolicyArn: 'arn:aws:iam::123456789012:policy/p1' })).rejects.toMatchObject({ stepFunctionsError: 'Iam.AccessDeniedException' });
    await a.call('iam', 'detachRolePolicy', { RoleName: 'r', PolicyArn: 'arn:aws:iam::123456789012:policy/p1' });
    expect(a.actions().map((x) => [x.operation, x.outcome, x.simulated])).toEqual([['detachRolePolicy', 'error', true], ['detachRolePolicy', 'ok', true]]);
    expect(a.describeRole('r').attachedPolicyArns).toEqual([]);
  });

  it('keeps the state it describes separate from what callers get back', async () => {
    const a = make();
    const role = a.describeRole('r');
    role.tags.a = 'changed';
    expect(a.describeRole('r').tags.a).toBe('1');
  });

  it('rejects an invalid spec with a clear message', () => {
    expect(() => new SimulatedAccount({ functions: [{ name: 'f', role: 'missing' }] })).toThrow(/role missing is not a role of the simulated account/);
    expect(() => new SimulatedAccount({ accountId: '12' })).toThrow(/accountId must be 12 digits/);
  });
});
