import { buildIamPolicy, mapAwsPattern, type IamRuleEntry } from '../../engine/iam/iam-policy';
import { iamPrefix, supportsNoResource } from '../../engine/iam/service-map';

const NOW = Date.parse('2026-11-23T00:00:00Z');
const e = (id: string, aws: string, resource?: string, extra: Partial<IamRuleEntry> = {}): IamRuleEntry =>
  ({ id, aws, resource: resource ?? null, source: 'functions/api.yaml', ...extra });

describe('service and action mapping', () => {
  it('maps SDK service ids to IAM prefixes', () => {
    expect(iamPrefix('dynamodb')).toBe('dynamodb');
    expect(iamPrefix('SFN')).toBe('states');
    expect(iamPrefix('CloudWatch Logs')).toBe('logs');
    expect(iamPrefix('cognito-identity-provider')).toBe('cognito-idp');
  });

  it('maps operations whose IAM action differs, and keeps globs textual', () => {
    expect(mapAwsPattern('dynamodb:PutItem')).toEqual({ actions: ['dynamodb:PutItem'] });
    expect(mapAwsPattern('s3:ListObjectsV2')).toEqual({ actions: ['s3:ListBucket'] });
    expect(mapAwsPattern('lambda:Invoke')).toEqual({ actions: ['lambda:InvokeFunction'] });
    expect(mapAwsPattern('sfn:StartExecution')).toEqual({ actions: ['states:StartExecution'] });
    expect(mapAwsPattern('dynamodb:Get*')).toEqual({ actions: ['dynamodb:Get*'] });
    expect(mapAwsPattern('*:GetItem')).toEqual({ error: expect.stringMatching(/wildcard service/) });
    expect(mapAwsPattern('dynamodb')).toEqual({ error: expect.stringMatching(/not service:Action/) });
  });

  it('knows which actions take no resource', () => {
    expect(supportsNoResource('s3:ListAllMyBuckets')).toBe(true);
    expect(supportsNoResource('ec2:DescribeInstances')).toBe(true);
    expect(supportsNoResource('dynamodb:PutItem')).toBe(false);
    expect(supportsNoResource('ec2:Describe*')).toBe(false);
  });
});

describe('buildIamPolicy', () => {
  it('groups actions per resource, denies first, and uses "*" only for resource-less actions', () => {
    const r = buildIamPolicy([
      e('orders-put', 'dynamodb:PutItem', 'arn:aws:dynamodb:us-east-1:1:table/orders'),
      e('orders-get', 'dynamodb:GetItem', 'arn:aws:dynamodb:us-east-1:1:table/orders'),
      e('send', 'sqs:SendMessage'),
      e('all-buckets', 's3:ListBuckets'),
    ], [e('no-delete', 'dynamodb:DeleteTable')], { now: NOW });
    expect(r.policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'DenyNoDelete', Effect: 'Deny', Action: ['dynamodb:DeleteTable'], Resource: ['*'] },
        { Sid: 'AllowAllBuckets', Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: ['*'] },
        { Sid: 'AllowOrdersPut', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: ['arn:aws:dynamodb:us-east-1:1:table/orders'] },
      ],
    });
    expect(r.skipped).toEqual(['send']);
    expect(r.warnings.join('\n')).toMatch(/"send" \(sqs:SendMessage\) has no resource.*add a "resource"/);
  });

  it('grants "*" on request and says so', () => {
    const r = buildIamPolicy([e('any', 'dynamodb:PutItem')], [], { now: NOW, allowWildcardResource: true });
    expect(r.policy.Statement).toEqual([{ Sid: 'AllowAny', Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: ['*'] }]);
    expect(r.warnings.join('\n')).toMatch(/granted on Resource "\*"/);
  });

  it('leaves out expired entries and warns when nothing is granted', () => {
    const r = buildIamPolicy([e('old', 'sqs:SendMessage', 'arn:aws:sqs:us-east-1:1:q', { expires: '2026-01-01' })], [], { now: NOW });
    expect(r.policy.Statement).toEqual([]);
    expect(r.warnings).toEqual([expect.stringMatching(/expired on 2026-01-01/), expect.stringMatching(/grants nothing/)]);
  });

  it('warns when the policy exceeds the managed-policy size limit', () => {
    const many = Array.from({ length: 200 }, (_, i) => e(`t${i}`, 'dynamodb:GetItem', `arn:aws:dynamodb:us-east-1:123456789012:table/table-number-${i}`));
    expect(buildIamPolicy(many, [], { now: NOW }).warnings.join('\n')).toMatch(/managed-policy limit/);
  });
});

describe('awsEntriesFor + CLI mapping over a rules repo', () => {
  it('collects the function file(s) by name or glob, plus global, and builds the policy', async () => {
    const { loadRulesFromFiles } = await import('../../engine/policy');
    const { awsEntriesFor } = await import('../../engine/iam/from-rules');
    const repo = loadRulesFromFiles([
      { path: 'functions/orders.yaml', text: 'functions: [orders-api]\nallow:\n  - id: orders-table\n    aws: "dynamodb:*"\n    resource: "arn:aws:dynamodb:us-east-1:1:table/orders"\n  - host: api.stripe.com\n' },
      { path: 'functions/payments.yaml', text: 'functions: ["payments-*"]\nallow:\n  - aws: "sqs:SendMessage"\n    resource: "arn:aws:sqs:us-east-1:1:q"\n' },
      { path: 'global.yaml', text: 'allow:\n  - aws: "xray:PutTraceSegments"\ndeny:\n  - id: no-iam\n    aws: "iam:*"\n  - host: "*.pastebin.com"\n' },
    ]);
    const orders = awsEntriesFor(repo, 'orders-api');
    expect(orders.files).toEqual(['functions/orders.yaml']);
    expect(orders.networkDenies).toBe(1);
    const r = buildIamPolicy(orders.allow, orders.deny, { now: NOW });
    expect(r.policy.Statement).toEqual([
      { Sid: 'DenyNoIam', Effect: 'Deny', Action: ['iam:*'], Resource: ['*'] },
      { Sid: 'AllowXrayPutTraceSegments', Effect: 'Allow', Action: ['xray:PutTraceSegments'], Resource: ['*'] },
      { Sid: 'AllowOrdersTable', Effect: 'Allow', Action: ['dynamodb:*'], Resource: ['arn:aws:dynamodb:us-east-1:1:table/orders'] },
    ]);
    expect(r.warnings).toEqual([]);
    expect(awsEntriesFor(repo, 'payments-worker').allow.map((e) => e.aws)).toEqual(['sqs:SendMessage', 'xray:PutTraceSegments']);
    expect(awsEntriesFor(repo, 'unknown').files).toEqual([]);
  });
});
