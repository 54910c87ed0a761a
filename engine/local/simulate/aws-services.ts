/** The AWS services a scenario's `aws:` calls may use (the SDK v3 clients the project ships with): IAM prefix → package, client class, endpoint prefix. */
export const AWS_SERVICES: Record<string, { pkg: string; client: string; endpoint: string }> = {
  dynamodb: { pkg: '@aws-sdk/client-dynamodb', client: 'DynamoDBClient', endpoint: 'dynamodb' },
  s3: { pkg: '@aws-sdk/client-s3', client: 'S3Client', endpoint: 's3' },
  sqs: { pkg: '@aws-sdk/client-sqs', client: 'SQSClient', endpoint: 'sqs' },
  sns: { pkg: '@aws-sdk/client-sns', client: 'SNSClient', endpoint: 'sns' },
  sts: { pkg: '@aws-sdk/client-sts', client: 'STSClient', endpoint: 'sts' },
  kms: { pkg: '@aws-sdk/client-kms', client: 'KMSClient', endpoint: 'kms' },
  ssm: { pkg: '@aws-sdk/client-ssm', client: 'SSMClient', endpoint: 'ssm' },
  lambda: { pkg: '@aws-sdk/client-lambda', client: 'LambdaClient', endpoint: 'lambda' },
  kinesis: { pkg: '@aws-sdk/client-kinesis', client: 'KinesisClient', endpoint: 'kinesis' },
  secretsmanager: { pkg: '@aws-sdk/client-secrets-manager', client: 'SecretsManagerClient', endpoint: 'secretsmanager' },
  events: { pkg: '@aws-sdk/client-eventbridge', client: 'EventBridgeClient', endpoint: 'events' },
  states: { pkg: '@aws-sdk/client-sfn', client: 'SFNClient', endpoint: 'states' },
};

/** The regional endpoint host a service's SDK client calls by default. */
export function awsEndpointHost(service: string, region: string): string {
  return `${AWS_SERVICES[service]?.endpoint ?? service}.${region}.amazonaws.com`;
}

