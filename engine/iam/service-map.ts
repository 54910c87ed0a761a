/**
 * How an access as the agent records it (`service` = the SDK client's service id, `action` = the
 * SDK operation) maps onto IAM. Most SDK operations are IAM actions of the same name under a
 * prefix equal to the service id; these tables hold the exceptions.
 */

/** SDK service id (lower case, punctuation removed) → IAM service prefix, where they differ. */
const PREFIX_EXCEPTIONS: Record<string, string> = {
  sfn: 'states',
  stepfunctions: 'states',
  eventbridge: 'events',
  cloudwatchevents: 'events',
  cloudwatchlogs: 'logs',
  dynamodbstreams: 'dynamodb',
  cognitoidentityprovider: 'cognito-idp',
  cognitoidentity: 'cognito-identity',
  elasticloadbalancingv2: 'elasticloadbalancing',
  apigatewaymanagementapi: 'execute-api',
  apigatewayv2: 'apigateway',
  s3control: 's3',
  sesv2: 'ses',
  bedrockruntime: 'bedrock',
  bedrockagentruntime: 'bedrock',
  sagemakerruntime: 'sagemaker',
  iotdataplane: 'iot',
  timestreamwrite: 'timestream',
  timestreamquery: 'timestream',
  rdsdata: 'rds-data',
  mediastoredata: 'mediastore',
  appconfigdata: 'appconfig',
  kinesisfirehose: 'firehose',
  marketplacemetering: 'aws-marketplace',
  lexruntimev2: 'lex',
  lexruntimeservice: 'lex',
  personalizeruntime: 'personalize',
  personalizeevents: 'personalize',
  ssmincidents: 'ssm-incidents',
  costexplorer: 'ce',
  configservice: 'config',
  elasticsearchservice: 'es',
  opensearch: 'es',
  databasemigrationservice: 'dms',
  applicationautoscaling: 'application-autoscaling',
  autoscaling: 'autoscaling',
};

export function iamPrefix(service: string): string {
  const norm = service.toLowerCase().replace(/[^a-z0-9]/g, '');
  return PREFIX_EXCEPTIONS[norm] ?? norm;
}

/** `prefix:Operation` (lower case) → the IAM actions the operation is authorized by. */
const ACTION_EXCEPTIONS: Record<string, string[]> = {
  's3:listbuckets': ['ListAllMyBuckets'],
  's3:listobjectsv2': ['ListBucket'],
  's3:listobjects': ['ListBucket'],
  's3:listobjectversions': ['ListBucketVersions'],
  's3:headobject': ['GetObject'],
  's3:headbucket': ['ListBucket'],
  's3:copyobject': ['GetObject', 'PutObject'],
  's3:createmultipartupload': ['PutObject'],
  's3:uploadpart': ['PutObject'],
  's3:uploadpartcopy': ['GetObject', 'PutObject'],
  's3:completemultipartupload': ['PutObject'],
  's3:listparts': ['ListMultipartUploadParts'],
  's3:deleteobjects': ['DeleteObject'],
  's3:getobjectattributes': ['GetObject', 'GetObjectAttributes'],
  'lambda:invoke': ['InvokeFunction'],
  'lambda:invokewithresponsestream': ['InvokeFunction'],
  'dynamodb:transactgetitems': ['GetItem'],
  'dynamodb:transactwriteitems': ['PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem'],
  'dynamodb:executestatement': ['PartiQLSelect', 'PartiQLInsert', 'PartiQLUpdate', 'PartiQLDelete'],
  'sqs:sendmessagebatch': ['SendMessage'],
  'sqs:deletemessagebatch': ['DeleteMessage'],
  'sqs:changemessagevisibilitybatch': ['ChangeMessageVisibility'],
  'sns:publishbatch': ['Publish'],
  'bedrock:converse': ['InvokeModel'],
  'bedrock:conversestream': ['InvokeModelWithResponseStream'],
  'execute-api:posttoconnection': ['ManageConnections'],
  'execute-api:getconnection': ['ManageConnections'],
  'execute-api:deleteconnection': ['ManageConnections'],
  'sts:getcalleridentity': [],
};

/** The IAM actions (`prefix:Action`) for one SDK operation; empty when the call needs no permission. */
export function iamActions(prefix: string, operation: string): string[] {
  const mapped = ACTION_EXCEPTIONS[`${prefix}:${operation.toLowerCase()}`];
  if (mapped) return mapped.map((a) => `${prefix}:${a}`);
  return [`${prefix}:${operation}`];
}

/** Actions (`prefix:action`, lower case) that support no resource-level permissions: IAM requires Resource "*". */
const NO_RESOURCE_ACTIONS = new Set([
  's3:listallmybuckets',
  'dynamodb:listtables', 'dynamodb:describelimits', 'dynamodb:describeendpoints', 'dynamodb:listbackups',
  'dynamodb:listglobaltables', 'dynamodb:describereservedcapacity', 'dynamodb:describereservedcapacityofferings',
  'sqs:listqueues',
  'sns:listtopics', 'sns:listsubscriptions', 'sns:listplatformapplications', 'sns:getsmsattributes', 'sns:setsmsattributes',
  'lambda:listfunctions', 'lambda:listeventsourcemappings', 'lambda:getaccountsettings', 'lambda:listlayers',
  'kms:listkeys', 'kms:listaliases', 'kms:createkey', 'kms:generaterandom',
  'secretsmanager:listsecrets', 'secretsmanager:getrandompassword', 'secretsmanager:batchgetsecretvalue',
  'ssm:describeparameters',
  'events:listeventbuses',
  'states:liststatemachines', 'states:listactivities',
  'kinesis:liststreams',
  'firehose:listdeliverystreams',
  'cloudwatch:putmetricdata', 'cloudwatch:getmetricdata', 'cloudwatch:listmetrics', 'cloudwatch:getmetricstatistics',
  'xray:puttracesegments', 'xray:puttelemetryrecords', 'xray:getsamplingrules', 'xray:getsamplingtargets',
  'xray:getsamplingstatisticsummaries',
  'iam:listroles', 'iam:listpolicies', 'iam:listusers', 'iam:listgroups',
  'ecr:getauthorizationtoken',
  'cognito-idp:listuserpools',
  'bedrock:listfoundationmodels',
]);

export function supportsNoResource(iamAction: string): boolean {
  const a = iamAction.toLowerCase();
  if (NO_RESOURCE_ACTIONS.has(a)) return true;
  // every EC2 Describe* action is account-wide
  return a.startsWith('ec2:describe') && !a.includes('*') && !a.includes('?');
}
