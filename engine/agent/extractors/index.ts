/** Service → resource extractor, keyed by the IAM service prefix the access event uses. */
import type { Extractor, ResourceKey } from './context';
import { dynamodb, dynamodbKey } from './dynamodb';
import { events } from './events';
import { iam } from './iam';
import { kinesis, kinesisKey } from './kinesis';
import { kms, kmsKey } from './kms';
import { lambda, lambdaKey } from './lambda';
import { s3 } from './s3';
import { secretsmanager, secretsmanagerKey } from './secretsmanager';
import { sns, snsKey } from './sns';
import { sqs, sqsKey } from './sqs';
import { ssm, ssmKey } from './ssm';
import { states } from './states';
import { sts } from './sts';

export type { Extractor, ExtractContext, ResourceKey } from './context';
export { partitionOf } from './context';

export const EXTRACTORS: Readonly<Record<string, Extractor>> = {
  dynamodb, s3, sqs, sns, lambda, secretsmanager, ssm, kms, kinesis, events, states, sts, iam,
};

/**
 * Per service, where it exists: the single input string the extractor's answer depends on for a
 * call (with the operation and the context), or undefined when it depends on more. Two calls with
 * the same operation, key and context have the same resources (a property test holds each to it).
 */
export const RESOURCE_KEYS: Readonly<Record<string, ResourceKey>> = {
  dynamodb: dynamodbKey, sqs: sqsKey, sns: snsKey, lambda: lambdaKey, secretsmanager: secretsmanagerKey, ssm: ssmKey, kms: kmsKey, kinesis: kinesisKey,
};

/** SDK `serviceId` → IAM service prefix (the `service` of an aws access). */
const SERVICE_PREFIX: Record<string, string> = {
  'dynamodb': 'dynamodb', 'dynamodb streams': 'dynamodb', 's3': 's3', 'sqs': 'sqs', 'sns': 'sns', 'lambda': 'lambda',
  'secrets manager': 'secretsmanager', 'ssm': 'ssm', 'kms': 'kms', 'kinesis': 'kinesis', 'eventbridge': 'events',
  'cloudwatch events': 'events', 'sfn': 'states', 'sts': 'sts', 'iam': 'iam', 'cloudwatch logs': 'logs',
  'cloudwatch': 'cloudwatch', 'api gateway': 'apigateway', 'apigatewaymanagementapi': 'execute-api',
  'cognito identity provider': 'cognito-idp', 'ses': 'ses', 'sesv2': 'ses', 'bedrock runtime': 'bedrock', 'xray': 'xray',
};

export function servicePrefix(serviceId: string): string {
  const k = serviceId.toLowerCase();
  return SERVICE_PREFIX[k] ?? k.replace(/\s+/g, '');
}

/** Resources of one SDK call; never throws (an extractor failure yields no resource). */
export function extractResources(service: string, action: string, input: unknown, ctx: Parameters<Extractor>[2]): string[] {
  const ex = EXTRACTORS[service];
  if (!ex || !input || typeof input !== 'object') return [];
  try {
    return ex(action, input as Record<string, unknown>, ctx);
  } catch {
    return [];
  }
}
