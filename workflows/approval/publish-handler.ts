import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { TABLES } from '../../engine/audit/tables';
import { createKmsSigner } from '../../engine/distribution/kms-signer';
import { openStore } from '../../engine/distribution/store';
import { dynamoExceptionSource } from '../../engine/handler/exceptions';
import { systemClock, type Clock } from '../common/clock';
import { LambdaEnvError } from '../slack/lambda-env';
import { PUBLISH_ENV } from './publish-env';
import { runPublishExceptions, type PublishExceptionsDeps } from './publish-exceptions';

/**
 * Lambda entry of the exceptions publisher (WARDEN_TASK=approval.publish-exceptions): wiring only.
 * Its role may read the exceptions table, sign with the exceptions KMS key, and read/write
 * `<store prefix>/exceptions/*` in the policy store — nothing else.
 */
export const PublishEnvSchema = z.object({
  [TABLES.exceptions.env]: z.string().min(1, 'the exceptions table name is required'),
  [PUBLISH_ENV.store]: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'must be s3://BUCKET/PREFIX (the policy store)'),
  [PUBLISH_ENV.kmsKeyId]: z.string().min(1, 'the exceptions signing key (KMS key ARN) is required'),
  /** the key agents pin; when set, no kms:GetPublicKey is needed and a mismatching key fails here */
  [PUBLISH_ENV.publicKey]: z.string().trim().min(1).optional(),
  [PUBLISH_ENV.bucketOwner]: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
});

export interface PublishClients { dynamo?: DynamoDBClient; kms?: KMSClient; s3?: S3Client; clock?: Clock; log?: (line: string) => void }

export async function publishDepsFromEnv(env: Record<string, string | undefined>, clients: PublishClients = {}): Promise<PublishExceptionsDeps> {
  const r = PublishEnvSchema.safeParse(env);
  if (!r.success) throw new LambdaEnvError(`exceptions publisher settings are invalid (${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}); the Warden construct sets them`);
  const e = r.data;
  const log = clients.log ?? ((line: string) => console.log(line));
  const doc = DynamoDBDocumentClient.from(clients.dynamo ?? new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  const table = dynamoExceptionSource(doc, e[TABLES.exceptions.env]!, (item, error) => {
    log(JSON.stringify({ level: 'WARN', message: 'malformed exception record left out of the published document', error, item: JSON.stringify(item).slice(0, 2000) }));
  });
  const publicKey = e[PUBLISH_ENV.publicKey];
  return {
    readExceptions: (fn) => table.forFunction(fn),
    store: await openStore(e[PUBLISH_ENV.store]!, { s3Client: clients.s3 ?? new S3Client({}), expectedBucketOwner: e[PUBLISH_ENV.bucketOwner] }),
    signer: createKmsSigner({ client: clients.kms ?? new KMSClient({}), kmsKeyId: e[PUBLISH_ENV.kmsKeyId]!, ...(publicKey ? { publicKeyPem: publicKey } : {}) }),
    ...(publicKey ? { trustedPublicKeys: publicKey } : {}),
    clock: clients.clock ?? systemClock,
  };
}

let deps: Promise<PublishExceptionsDeps> | undefined;

export const handler = async (event: unknown): Promise<unknown> => {
  deps ??= publishDepsFromEnv(process.env).catch((err: unknown) => { deps = undefined; throw err; });
  const result = await runPublishExceptions(event, await deps);
  console.log(JSON.stringify({ level: 'INFO', message: 'exceptions published', ...result }));
  return result;
};
