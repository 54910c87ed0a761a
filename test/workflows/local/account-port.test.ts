import * as iam from '@aws-sdk/client-iam';
import * as lambda from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { CallerAccountPort, sdkCaller } from '../../../workflows/common/account-port';
import { SimulatedAccount } from '../../../workflows/local/simulated-account';
import { simulatedAccountPort } from '../../../workflows/local/simulated-account-port';

describe('AccountPort over the AWS SDK (aws-sdk-client-mock)', () => {
  const iamMock = mockClient(iam.IAMClient);
  const lambdaMock = mockClient(lambda.LambdaClient);
  const port = () => new CallerAccountPort(sdkCaller({ iam: new iam.IAMClient({ region: 'us-east-1' }), lambda: new lambda.LambdaClient({ region: 'us-east-1' }) }));
  beforeEach(() => { iamMock.reset(); lambdaMock.reset(); });

  it('reads a role across pages, decoding inline policy documents', async () => {
    iamMock.on(iam.GetRoleCommand).resolves({ Role: { RoleName: 'r', Arn: 'arn:aws:iam::1:role/r', Path: '/', RoleId: 'x', CreateDate: new Date(0), Tags: [{ Key: 'team', Value: 'a' }], PermissionsBoundary: { PermissionsBoundaryArn: 'arn:aws:iam::1:policy/b' } } });
    iamMock.on(iam.ListAttachedRolePoliciesCommand)
      .resolvesOnce({ AttachedPolicies: [{ PolicyArn: 'arn:p1' }], IsTruncated: true, Marker: 'm1' })
      .resolvesOnce({ AttachedPolicies: [{ PolicyArn: 'arn:p2' }], IsTruncated: false });
    iamMock.on(iam.ListRolePoliciesCommand).resolves({ PolicyNames: ['inline'], IsTruncated: false });
    iamMock.on(iam.GetRolePolicyCommand).resolves({ RoleName: 'r', PolicyName: 'inline', PolicyDocument: encodeURIComponent('{"Version":"2012-10-17","Statement":[]}') });
    const role = await port().getRole('r');
    expect(role).toEqual({
      roleName: 'r', arn: 'arn:aws:iam::1:role/r', attachedPolicyArns: ['arn:p1', 'arn:p2'],
      inlinePolicies: { inline: '{"Version":"2012-10-17","Statement":[]}' }, permissionsBoundaryArn: 'arn:aws:iam::1:policy/b', tags: { team: 'a' },
    });
    expect(iamMock.commandCalls(iam.ListAttachedRolePoliciesCommand)).toHaveLength(2);
  });

  it('reads a function with concurrency, tags and paged event source mappings', async () => {
    lambdaMock.on(lambda.GetFunctionCommand).resolves({ Configuration: { FunctionName: 'f', FunctionArn: 'arn:aws:lambda:us-east-1:1:function:f', Role: 'arn:aws:iam::1:role/r' }, Tags: { a: 'b' }, Concurrency: { ReservedConcurrentExecutions: 5 } });
    lambdaMock.on(lambda.ListEventSourceMappingsCommand)
      .resolvesOnce({ EventSourceMappings: [{ UUID: 'u1', EventSourceArn: 'arn:q', State: 'Enabled' }], NextMarker: 'n' })
      .resolvesOnce({ EventSourceMappings: [{ UUID: 'u2', EventSourceArn: 'arn:s', State: 'Disabled' }] });
    expect(await port().getFunction('f')).toEqual({
      functionName: 'f', arn: 'arn:aws:lambda:us-east-1:1:function:f', roleArn: 'arn:aws:iam::1:role/r', reservedConcurrency: 5, tags: { a: 'b' },
      eventSourceMappings: [{ uuid: 'u1', eventSourceArn: 'arn:q', state: 'Enabled' }, { uuid: 'u2', eventSourceArn: 'arn:s', state: 'Disabled' }],
    });
    expect(lambdaMock.commandCalls(lambda.ListEventSourceMappingsCommand)).toHaveLength(2);
  });

  it('finds every function using a role, across pages', async () => {
    lambdaMock.on(lambda.ListFunctionsCommand)
      .resolvesOnce({ Functions: [{ FunctionName: 'b', Role: 'arn:r' }, { FunctionName: 'x', Role: 'arn:other' }], NextMarker: 'n' })
      .resolvesOnce({ Functions: [{ FunctionName: 'a', Role: 'arn:r' }] });
    expect(await port().functionsUsingRole('arn:r')).toEqual(['a', 'b']);
  });

  it('no Concurrency in GetFunction means no reservation (null), not 0', async () => {
    lambdaMock.on(lambda.GetFunctionCommand).resolves({ Configuration: { FunctionName: 'f', FunctionArn: 'arn:f', Role: 'arn:r' } });
    lambdaMock.on(lambda.ListEventSourceMappingsCommand).resolves({ EventSourceMappings: [] });
    expect((await port().getFunction('f')).reservedConcurrency).toBeNull();
  });

  it('sends the mutations as the right commands', async () => {
    const p = port();
    await p.putRolePolicy('r', 'warden-quarantine', '{}');
    await p.detachRolePolicy('r', 'arn:p');
    await p.setReservedConcurrency('f', 0);
    await p.setReservedConcurrency('f', null);
    await p.setEventSourceMappingEnabled('u1', false);
    await p.tagFunction('arn:f', { 'warden:incident': 'i' });
    await p.tagRole('r', { 'warden:incident': 'i' });
    expect(iamMock.commandCalls(iam.PutRolePolicyCommand)[0]!.args[0].input).toEqual({ RoleName: 'r', PolicyName: 'warden-quarantine', PolicyDocument: '{}' });
    expect(iamMock.commandCalls(iam.DetachRolePolicyCommand)[0]!.args[0].input).toEqual({ RoleName: 'r', PolicyArn: 'arn:p' });
    expect(iamMock.commandCalls(iam.TagRoleCommand)[0]!.args[0].input).toEqual({ RoleName: 'r', Tags: [{ Key: 'warden:incident', Value: 'i' }] });
    expect(lambdaMock.commandCalls(lambda.PutFunctionConcurrencyCommand)[0]!.args[0].input).toEqual({ FunctionName: 'f', ReservedConcurrentExecutions: 0 });
    expect(lambdaMock.commandCalls(lambda.DeleteFunctionConcurrencyCommand)).toHaveLength(1);
    expect(lambdaMock.commandCalls(lambda.UpdateEventSourceMappingCommand)[0]!.args[0].input).toEqual({ UUID: 'u1', Enabled: false });
    expect(lambdaMock.commandCalls(lambda.TagResourceCommand)[0]!.args[0].input).toEqual({ Resource: 'arn:f', Tags: { 'warden:incident': 'i' } });
  });

  it.each([
    [Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }), 'Warden.Throttling'],
    [new lambda.TooManyRequestsException({ message: 'slow down', $metadata: {} }), 'Warden.Throttling'],
    [Object.assign(new Error('not allowed'), { name: 'AccessDenied' }), 'Warden.AccessDenied'],
    [new lambda.ResourceNotFoundException({ message: 'gone', $metadata: {} }), 'Warden.NotFound'],
    [new iam.NoSuchEntityException({ message: 'gone', $metadata: {} }), 'Warden.NotFound'],
    [new iam.LimitExceededException({ message: 'quota', $metadata: {} }), 'Warden.LimitExceeded'],
    [new Error('boom'), 'Warden.AccountError'],
  ])('maps %p to %s', async (err, name) => {
    iamMock.on(iam.DetachRolePolicyCommand).rejects(err);
    await expect(port().detachRolePolicy('r', 'arn:p')).rejects.toMatchObject({ name });
  });
});

describe('AccountPort over the simulated account', () => {
  it('answers like the SDK and maps injected faults the same way', async () => {
    const account = new SimulatedAccount({ roles: [{ name: 'r', attachedPolicies: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }], functions: [{ name: 'f', role: 'r' }] });
    const port = simulatedAccountPort(account);
    expect((await port.getRole('r')).attachedPolicyArns).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
    expect((await port.getFunction('f')).reservedConcurrency).toBeNull();
    account.injectFault({ operation: 'detachRolePolicy', code: 'Throttling', times: 1 });
    await expect(port.detachRolePolicy('r', 'arn:aws:iam::aws:policy/ReadOnlyAccess')).rejects.toMatchObject({ name: 'Warden.Throttling' });
    await port.detachRolePolicy('r', 'arn:aws:iam::aws:policy/ReadOnlyAccess');
    await expect(port.detachRolePolicy('r', 'arn:aws:iam::aws:policy/ReadOnlyAccess')).rejects.toMatchObject({ name: 'Warden.NotFound' });
    await expect(port.getRole('nope')).rejects.toMatchObject({ name: 'Warden.NotFound' });
  });
});
