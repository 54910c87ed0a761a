/**
 * One block per service extractor, cdk-nag style: numbered "Compliance N" cases (the ARN an IAM
 * policy would name) and "Noncompliance N" cases (inputs that yield no resource rather than a wrong one).
 */
import fc from 'fast-check';
import { EXTRACTORS, RESOURCE_KEYS, extractResources, servicePrefix } from '../../engine/agent/extractors';
import { partitionOf } from '../../engine/agent/extractors/context';

const ctx = { region: 'us-east-1', account: '123456789012', partition: 'aws' };
const x = (service: string, action: string, input: Record<string, unknown>, c = ctx) => extractResources(service, action, input, c);

describe('dynamodb', () => {
  test('Compliance 1: TableName → table ARN', () => expect(x('dynamodb', 'PutItem', { TableName: 'orders' })).toEqual(['arn:aws:dynamodb:us-east-1:123456789012:table/orders']));
  test('Compliance 2: a table ARN is kept', () => expect(x('dynamodb', 'GetItem', { TableName: 'arn:aws:dynamodb:eu-west-1:111122223333:table/t' })).toEqual(['arn:aws:dynamodb:eu-west-1:111122223333:table/t']));
  test('Compliance 3: Query on an index → index ARN', () => expect(x('dynamodb', 'Query', { TableName: 'orders', IndexName: 'byUser' })).toEqual(['arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/byUser']));
  test('Compliance 4: BatchWriteItem → every table', () => expect(x('dynamodb', 'BatchWriteItem', { RequestItems: { a: [], b: [] } })).toEqual(['arn:aws:dynamodb:us-east-1:123456789012:table/a', 'arn:aws:dynamodb:us-east-1:123456789012:table/b']));
  test('Compliance 5: TransactWriteItems → every distinct table', () => expect(x('dynamodb', 'TransactWriteItems', { TransactItems: [{ Put: { TableName: 'a' } }, { Update: { TableName: 'b' } }, { Delete: { TableName: 'a' } }] })).toEqual(['arn:aws:dynamodb:us-east-1:123456789012:table/a', 'arn:aws:dynamodb:us-east-1:123456789012:table/b']));
  test('Noncompliance 1: ListTables has no resource', () => expect(x('dynamodb', 'ListTables', {})).toEqual([]));
});

describe('s3', () => {
  test('Compliance 1: object operations → bucket/key', () => expect(x('s3', 'GetObject', { Bucket: 'b', Key: 'a/b.txt' })).toEqual(['arn:aws:s3:::b/a/b.txt']));
  test('Compliance 2: bucket operations → bucket ARN', () => expect(x('s3', 'ListObjectsV2', { Bucket: 'b', Prefix: 'x' })).toEqual(['arn:aws:s3:::b']));
  test('Compliance 3: China partition', () => expect(x('s3', 'PutObject', { Bucket: 'b', Key: 'k' }, { ...ctx, region: 'cn-north-1', partition: 'aws-cn' })).toEqual(['arn:aws-cn:s3:::b/k']));
  test('Compliance 4: access point ARN kept, object path appended', () => expect(x('s3', 'GetObject', { Bucket: 'arn:aws:s3:us-east-1:123456789012:accesspoint/ap', Key: 'k' })).toEqual(['arn:aws:s3:us-east-1:123456789012:accesspoint/ap/object/k']));
  test('Noncompliance 1: ListBuckets has no resource', () => expect(x('s3', 'ListBuckets', {})).toEqual([]));
});

describe('sqs', () => {
  test('Compliance 1: AWS queue URL → queue ARN with its region and account', () => expect(x('sqs', 'SendMessage', { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/jobs' })).toEqual(['arn:aws:sqs:eu-west-1:111122223333:jobs']));
  test('Compliance 2: legacy queue URL host', () => expect(x('sqs', 'SendMessage', { QueueUrl: 'https://ap-south-1.queue.amazonaws.com/111122223333/q.fifo' })).toEqual(['arn:aws:sqs:ap-south-1:111122223333:q.fifo']));
  test('Compliance 3: local endpoint URL uses the client region', () => expect(x('sqs', 'ReceiveMessage', { QueueUrl: 'http://localhost:9324/000000000000/q' })).toEqual(['arn:aws:sqs:us-east-1:000000000000:q']));
  test('Compliance 4: GetQueueUrl by name and owner', () => expect(x('sqs', 'GetQueueUrl', { QueueName: 'q', QueueOwnerAWSAccountId: '999988887777' })).toEqual(['arn:aws:sqs:us-east-1:999988887777:q']));
  test('Noncompliance 1: a URL without account/name yields nothing', () => expect(x('sqs', 'SendMessage', { QueueUrl: 'https://sqs.us-east-1.amazonaws.com/' })).toEqual([]));
});

describe('sns', () => {
  test('Compliance 1: TopicArn', () => expect(x('sns', 'Publish', { TopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts' })).toEqual(['arn:aws:sns:us-east-1:123456789012:alerts']));
  test('Compliance 2: TargetArn', () => expect(x('sns', 'Publish', { TargetArn: 'arn:aws:sns:us-east-1:123456789012:endpoint/x' })).toEqual(['arn:aws:sns:us-east-1:123456789012:endpoint/x']));
  test('Compliance 3: CreateTopic by name', () => expect(x('sns', 'CreateTopic', { Name: 't' })).toEqual(['arn:aws:sns:us-east-1:123456789012:t']));
  test('Noncompliance 1: SMS to a phone number has no ARN', () => expect(x('sns', 'Publish', { PhoneNumber: '+15555550100' })).toEqual([]));
});

describe('lambda', () => {
  test('Compliance 1: function name', () => expect(x('lambda', 'Invoke', { FunctionName: 'billing' })).toEqual(['arn:aws:lambda:us-east-1:123456789012:function:billing']));
  test('Compliance 2: name with Qualifier', () => expect(x('lambda', 'Invoke', { FunctionName: 'billing', Qualifier: 'live' })).toEqual(['arn:aws:lambda:us-east-1:123456789012:function:billing:live']));
  test('Compliance 3: partial ARN', () => expect(x('lambda', 'Invoke', { FunctionName: '111122223333:function:f' })).toEqual(['arn:aws:lambda:us-east-1:111122223333:function:f']));
  test('Compliance 4: full qualified ARN is kept', () => expect(x('lambda', 'Invoke', { FunctionName: 'arn:aws:lambda:eu-west-1:111122223333:function:f:3', Qualifier: '3' })).toEqual(['arn:aws:lambda:eu-west-1:111122223333:function:f:3']));
  test('Noncompliance 1: ListFunctions has no resource', () => expect(x('lambda', 'ListFunctions', {})).toEqual([]));
});

describe('secretsmanager', () => {
  test('Compliance 1: SecretId name (suffix unknown: rules use name*)', () => expect(x('secretsmanager', 'GetSecretValue', { SecretId: 'prod/db' })).toEqual(['arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db']));
  test('Compliance 2: SecretId ARN kept', () => expect(x('secretsmanager', 'GetSecretValue', { SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf' })).toEqual(['arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf']));
  test('Compliance 3: BatchGetSecretValue → each secret', () => expect(x('secretsmanager', 'BatchGetSecretValue', { SecretIdList: ['a', 'b'] })).toHaveLength(2));
  test('Compliance 4: CreateSecret by Name', () => expect(x('secretsmanager', 'CreateSecret', { Name: 'n' })).toEqual(['arn:aws:secretsmanager:us-east-1:123456789012:secret:n']));
  test('Noncompliance 1: ListSecrets has no resource', () => expect(x('secretsmanager', 'ListSecrets', {})).toEqual([]));
});

describe('ssm', () => {
  test('Compliance 1: hierarchical parameter', () => expect(x('ssm', 'GetParameter', { Name: '/app/db/url' })).toEqual(['arn:aws:ssm:us-east-1:123456789012:parameter/app/db/url']));
  test('Compliance 2: flat parameter', () => expect(x('ssm', 'PutParameter', { Name: 'flag' })).toEqual(['arn:aws:ssm:us-east-1:123456789012:parameter/flag']));
  test('Compliance 3: GetParameters → each name', () => expect(x('ssm', 'GetParameters', { Names: ['/a', 'b'] })).toEqual(['arn:aws:ssm:us-east-1:123456789012:parameter/a', 'arn:aws:ssm:us-east-1:123456789012:parameter/b']));
  test('Compliance 4: GetParametersByPath', () => expect(x('ssm', 'GetParametersByPath', { Path: '/app/' })).toEqual(['arn:aws:ssm:us-east-1:123456789012:parameter/app/']));
  test('Compliance 5: documents', () => expect(x('ssm', 'GetDocument', { Name: 'MyDoc' })).toEqual(['arn:aws:ssm:us-east-1:123456789012:document/MyDoc']));
  test('Noncompliance 1: DescribeParameters has no resource', () => expect(x('ssm', 'DescribeParameters', {})).toEqual([]));
});

describe('kms', () => {
  test('Compliance 1: key id', () => expect(x('kms', 'Decrypt', { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' })).toEqual(['arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab']));
  test('Compliance 2: alias name', () => expect(x('kms', 'Encrypt', { KeyId: 'alias/app' })).toEqual(['arn:aws:kms:us-east-1:123456789012:alias/app']));
  test('Compliance 3: key ARN kept', () => expect(x('kms', 'Sign', { KeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k' })).toEqual(['arn:aws:kms:eu-west-1:111122223333:key/k']));
  test('Compliance 4: ReEncrypt names both keys', () => expect(x('kms', 'ReEncrypt', { DestinationKeyId: 'k2', SourceKeyId: 'k1' })).toEqual(['arn:aws:kms:us-east-1:123456789012:key/k1', 'arn:aws:kms:us-east-1:123456789012:key/k2']));
  test('Noncompliance 1: symmetric Decrypt without KeyId has no resource', () => expect(x('kms', 'Decrypt', { CiphertextBlob: new Uint8Array(1) })).toEqual([]));
});

describe('kinesis', () => {
  test('Compliance 1: StreamName', () => expect(x('kinesis', 'PutRecord', { StreamName: 's' })).toEqual(['arn:aws:kinesis:us-east-1:123456789012:stream/s']));
  test('Compliance 2: StreamARN kept', () => expect(x('kinesis', 'PutRecords', { StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/s' })).toEqual(['arn:aws:kinesis:us-east-1:123456789012:stream/s']));
  test('Compliance 3: ConsumerARN kept', () => expect(x('kinesis', 'SubscribeToShard', { ConsumerARN: 'arn:c' })).toEqual(['arn:c']));
  test('Noncompliance 1: GetRecords by shard iterator has no resource', () => expect(x('kinesis', 'GetRecords', { ShardIterator: 'it' })).toEqual([]));
});

describe('events (EventBridge)', () => {
  test('Compliance 1: PutEvents → each bus, default bus when unnamed', () => expect(x('events', 'PutEvents', { Entries: [{ EventBusName: 'orders' }, {}, { EventBusName: 'orders' }] })).toEqual(['arn:aws:events:us-east-1:123456789012:event-bus/orders', 'arn:aws:events:us-east-1:123456789012:event-bus/default']));
  test('Compliance 2: bus ARN in an entry is kept', () => expect(x('events', 'PutEvents', { Entries: [{ EventBusName: 'arn:aws:events:eu-west-1:111122223333:event-bus/x' }] })).toEqual(['arn:aws:events:eu-west-1:111122223333:event-bus/x']));
  test('Compliance 3: PutRule on a custom bus', () => expect(x('events', 'PutRule', { Name: 'r', EventBusName: 'orders' })).toEqual(['arn:aws:events:us-east-1:123456789012:rule/orders/r']));
  test('Compliance 4: PutTargets on the default bus', () => expect(x('events', 'PutTargets', { Rule: 'r' })).toEqual(['arn:aws:events:us-east-1:123456789012:rule/r']));
  test('Compliance 5: DescribeEventBus', () => expect(x('events', 'DescribeEventBus', { Name: 'b' })).toEqual(['arn:aws:events:us-east-1:123456789012:event-bus/b']));
  test('Noncompliance 1: ListRules has no resource', () => expect(x('events', 'ListRules', {})).toEqual([]));
});

describe('states (Step Functions)', () => {
  test('Compliance 1: StartExecution', () => expect(x('states', 'StartExecution', { stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:sm' })).toEqual(['arn:aws:states:us-east-1:123456789012:stateMachine:sm']));
  test('Compliance 2: DescribeExecution', () => expect(x('states', 'DescribeExecution', { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:sm:1' })).toEqual(['arn:aws:states:us-east-1:123456789012:execution:sm:1']));
  test('Compliance 3: CreateStateMachine by name', () => expect(x('states', 'CreateStateMachine', { name: 'sm' })).toEqual(['arn:aws:states:us-east-1:123456789012:stateMachine:sm']));
  test('Noncompliance 1: SendTaskSuccess by token has no resource', () => expect(x('states', 'SendTaskSuccess', { taskToken: 't', output: '{}' })).toEqual([]));
});

describe('sts', () => {
  test('Compliance 1: AssumeRole → the role', () => expect(x('sts', 'AssumeRole', { RoleArn: 'arn:aws:iam::111122223333:role/x', RoleSessionName: 's' })).toEqual(['arn:aws:iam::111122223333:role/x']));
  test('Noncompliance 1: GetCallerIdentity has no resource', () => expect(x('sts', 'GetCallerIdentity', {})).toEqual([]));
});

describe('iam', () => {
  test('Compliance 1: RoleName → role ARN without region', () => expect(x('iam', 'GetRole', { RoleName: 'app' })).toEqual(['arn:aws:iam::123456789012:role/app']));
  test('Compliance 2: AttachRolePolicy acts on the role', () => expect(x('iam', 'AttachRolePolicy', { RoleName: 'app', PolicyArn: 'arn:aws:iam::aws:policy/Admin' })).toEqual(['arn:aws:iam::123456789012:role/app']));
  test('Compliance 3: a policy-only call → the policy', () => expect(x('iam', 'GetPolicy', { PolicyArn: 'arn:aws:iam::aws:policy/Admin' })).toEqual(['arn:aws:iam::aws:policy/Admin']));
  test('Compliance 4: users and groups', () => expect(x('iam', 'AddUserToGroup', { UserName: 'u', GroupName: 'g' })).toEqual(['arn:aws:iam::123456789012:user/u', 'arn:aws:iam::123456789012:group/g']));
  test('Noncompliance 1: ListRoles has no resource', () => expect(x('iam', 'ListRoles', {})).toEqual([]));
});

describe('registry', () => {
  it('covers the thirteen services of the issue', () => {
    expect(Object.keys(EXTRACTORS).sort()).toEqual(['dynamodb', 'events', 'iam', 'kinesis', 'kms', 'lambda', 's3', 'secretsmanager', 'sns', 'sqs', 'ssm', 'states', 'sts']);
  });
  it('maps SDK service ids to IAM prefixes', () => {
    expect(['DynamoDB', 'Secrets Manager', 'EventBridge', 'SFN', 'SSM', 'CloudWatch Logs', 'Some New Service'].map(servicePrefix))
      .toEqual(['dynamodb', 'secretsmanager', 'events', 'states', 'ssm', 'logs', 'somenewservice']);
  });
  it('an unknown service, a missing input or a throwing extractor yields no resource', () => {
    expect(x('unknown', 'Do', { A: 1 })).toEqual([]);
    expect(extractResources('dynamodb', 'PutItem', undefined, ctx)).toEqual([]);
    const evil = { get TableName(): string { throw new Error('getter'); } };
    expect(extractResources('dynamodb', 'PutItem', evil, ctx)).toEqual([]);
  });
  it('derives the partition from the region', () => {
    expect(['us-east-1', 'cn-north-1', 'us-gov-west-1', 'us-iso-east-1'].map(partitionOf)).toEqual(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso']);
  });
});

describe('arn prefixes cached per context object and service', () => {
  test('one context, several services; another context, another account: never a stale prefix', () => {
    const a = { region: 'us-east-1', account: '111111111111', partition: 'aws' };
    const b = { region: 'eu-west-1', account: '222222222222', partition: 'aws' };
    for (let i = 0; i < 2; i++) {
      expect(x('dynamodb', 'GetItem', { TableName: 't' }, a)).toEqual(['arn:aws:dynamodb:us-east-1:111111111111:table/t']);
      expect(x('kinesis', 'PutRecord', { StreamName: 's' }, a)).toEqual(['arn:aws:kinesis:us-east-1:111111111111:stream/s']);
      expect(x('dynamodb', 'GetItem', { TableName: 't' }, b)).toEqual(['arn:aws:dynamodb:eu-west-1:222222222222:table/t']);
    }
  });
});

describe('memoized names (the SDK capture keys its cache by the returned string)', () => {
  test('the same name gives the same ARN string object; another context or name its own', () => {
    const c = { region: 'us-east-1', account: '123456789012', partition: 'aws' };
    const a = x('dynamodb', 'GetItem', { TableName: 'orders' }, c)[0]!;
    expect(x('dynamodb', 'PutItem', { TableName: 'orders' }, c)[0]).toBe(a);
    expect(x('dynamodb', 'GetItem', { TableName: 'orders' }, { ...c, region: 'eu-west-1' })).toEqual(['arn:aws:dynamodb:eu-west-1:123456789012:table/orders']);
    expect(x('sqs', 'SendMessage', { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/jobs' }, c)).toEqual(['arn:aws:sqs:eu-west-1:111122223333:jobs']);
    expect(x('sqs', 'SendMessage', { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/jobs' }, c)).toEqual(['arn:aws:sqs:eu-west-1:111122223333:jobs']);
    expect(x('sqs', 'SendMessage', { QueueUrl: 'not a queue url' }, c)).toEqual([]);
    expect(x('sqs', 'SendMessage', { QueueUrl: 'not a queue url' }, c)).toEqual([]); // a remembered miss stays a miss
  });

  test('bounded: past 1,000 names per slot the memo starts over, and every answer stays right', () => {
    const c = { region: 'us-east-1', account: '123456789012', partition: 'aws' };
    for (let i = 0; i < 2_500; i++) expect(x('kinesis', 'PutRecord', { StreamName: `s${i}` }, c)).toEqual([`arn:aws:kinesis:us-east-1:123456789012:stream/s${i}`]);
    expect(x('secretsmanager', 'GetSecretValue', { SecretId: 's0' }, c)).toEqual(['arn:aws:secretsmanager:us-east-1:123456789012:secret:s0']);
  });
});

describe('resource keys (the SDK capture counts a repeat of its last call without extracting)', () => {
  // inputs in the shapes the extractors read, with the fields that change the answer
  const str = fc.constantFrom(undefined, '', 'orders', 'users', '/app/db', 'alias/k', '123456789012:function:f', 'arn:aws:dynamodb:eu-west-1:111122223333:table/t', 'arn:aws:sns:us-east-1:123456789012:t', 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs', 'http://127.0.0.1:9/123456789012/q', 5 as unknown as string);
  const input = fc.record({
    TableName: str, TableArn: str, ResourceArn: str, IndexName: str, QueueUrl: str, QueueName: str, QueueOwnerAWSAccountId: str,
    RequestItems: fc.constantFrom(undefined, { a: [] }, { orders: [], users: [] }),
    TransactItems: fc.constantFrom(undefined, [{ Put: { TableName: 'x' } }]),
    TopicArn: str, TargetArn: str, SubscriptionArn: str, Name: str, FunctionName: str, Qualifier: str, LayerName: str, Resource: str,
    SecretId: str, SecretIdList: fc.constantFrom(undefined, ['orders'], ['orders', 'users']), Names: fc.constantFrom(undefined, ['/a', 'b']), Path: str,
    KeyId: str, SourceKeyId: str, DestinationKeyId: str, AliasName: str, StreamName: str, StreamARN: str, ConsumerARN: str, ResourceARN: str,
  }, { requiredKeys: [] });
  const action = fc.constantFrom('GetItem', 'PutItem', 'Query', 'BatchGetItem', 'BatchWriteItem', 'TransactWriteItems', 'TransactGetItems', 'SendMessage', 'CreateQueue', 'GetQueueUrl',
    'Publish', 'CreateTopic', 'Invoke', 'GetFunction', 'GetSecretValue', 'BatchGetSecretValue', 'CreateSecret', 'GetParameter', 'PutParameter', 'GetParameters', 'DeleteParameters',
    'GetParametersByPath', 'GetDocument', 'ListTagsForResource', 'Encrypt', 'Decrypt', 'ReEncrypt', 'CreateAlias', 'PutRecord', 'DescribeStream');
  const c = { region: 'us-east-1', account: '123456789012', partition: 'aws' };

  test.each(Object.keys(RESOURCE_KEYS))('%s: two calls with the same operation and key name the same resources', (service) => {
    const key = RESOURCE_KEYS[service]!;
    fc.assert(fc.property(action, input, input, (a, i1, i2) => {
      const k1 = key(a, i1 as Record<string, unknown>);
      const k2 = key(a, i2 as Record<string, unknown>);
      if (k1 === undefined || k1 !== k2) return;
      expect(x(service, a, i1 as Record<string, unknown>, c)).toEqual(x(service, a, i2 as Record<string, unknown>, c));
    }), { numRuns: 3_000 });
  });

  test('a key exists for the common single-resource calls (else the fast path would never be taken)', () => {
    expect(RESOURCE_KEYS.dynamodb!('GetItem', { TableName: 'orders', Key: {} })).toBe('orders');
    expect(RESOURCE_KEYS.dynamodb!('Query', { TableName: 'orders', IndexName: 'byUser' })).toBeUndefined();
    expect(RESOURCE_KEYS.dynamodb!('BatchGetItem', { TableName: 'orders' })).toBeUndefined();
    expect(RESOURCE_KEYS.sqs!('SendMessage', { QueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs' })).toBe('https://sqs.us-east-1.amazonaws.com/123456789012/jobs');
    expect(RESOURCE_KEYS.sqs!('CreateQueue', { QueueName: 'jobs' })).toBeUndefined();
    expect(RESOURCE_KEYS.sns!('Publish', { TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Message: 'x' })).toBe('arn:aws:sns:us-east-1:123456789012:t');
    expect(RESOURCE_KEYS.lambda!('Invoke', { FunctionName: 'f', Payload: '{}' })).toBe('f');
    expect(RESOURCE_KEYS.lambda!('Invoke', { FunctionName: 'f', Qualifier: 'live' })).toBeUndefined();
    expect(RESOURCE_KEYS.secretsmanager!('GetSecretValue', { SecretId: 'db' })).toBe('db');
    expect(RESOURCE_KEYS.ssm!('GetParameter', { Name: '/app/db', WithDecryption: true })).toBe('/app/db');
    expect(RESOURCE_KEYS.ssm!('GetParameters', { Names: ['/a'] })).toBeUndefined();
    expect(RESOURCE_KEYS.kms!('Decrypt', { KeyId: 'alias/k', CiphertextBlob: new Uint8Array() })).toBe('alias/k');
    expect(RESOURCE_KEYS.kinesis!('PutRecord', { StreamName: 's', Data: new Uint8Array(), PartitionKey: 'p' })).toBe('s');
  });
});
