import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { decodeSigned } from '../../../engine/distribution/documents';
import { createVerifier } from '../../../engine/distribution/signing';
import { publishDepsFromEnv } from '../../../workflows/approval/publish-handler';
import { runPublishExceptions } from '../../../workflows/approval/publish-exceptions';

const NOW = Date.parse('2026-11-23T20:00:00.000Z');
const FN = 'payments-worker';
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const STORE = 's3://warden-policy-store/policy';
const OBJECT = 'policy/exceptions/payments-worker.json';

const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);

function ecKey(): { privateKey: KeyObject; publicPem: string; publicDer: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), publicDer: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })) };
}

/** KMS Sign as KMS does it: ECDSA_SHA_256 over the raw message, DER signature. */
function kmsSignsWith(key: KeyObject): void {
  kms.on(SignCommand).callsFake((input: { Message: Uint8Array; SigningAlgorithm: string }) => {
    expect(input.SigningAlgorithm).toBe('ECDSA_SHA_256');
    return { Signature: new Uint8Array(cryptoSign('sha256', Buffer.from(input.Message), { key, dsaEncoding: 'der' })), KeyId: KEY_ARN };
  });
}

/** A one-bucket S3 in memory: conditional writes as S3 answers them. */
function fakeS3(): Map<string, Uint8Array> {
  const objects = new Map<string, Uint8Array>();
  const etag = (b: Uint8Array) => `"${Buffer.from(b).toString('base64').slice(0, 16)}"`;
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = objects.get(input.Key);
    if (!body) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    return { Body: { transformToByteArray: async () => body }, ETag: etag(body), ContentLength: body.byteLength };
  });
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: Uint8Array; IfNoneMatch?: string; IfMatch?: string }) => {
    const existing = objects.get(input.Key);
    if ((input.IfNoneMatch === '*' && existing) || (input.IfMatch !== undefined && (!existing || etag(existing) !== input.IfMatch))) {
      throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    }
    objects.set(input.Key, new Uint8Array(input.Body));
    return { ETag: etag(input.Body) };
  });
  return objects;
}

const record = (exceptionId: string, host: string, expiresAt: string) => ({
  functionName: FN, exceptionId, access: { kind: 'http', host, port: 443 }, expiresAt, grantedBy: 'U0APPROVER1', approvalId: `apr_${exceptionId}`,
  entry: { id: `approved:${exceptionId}`, host }, incidentId: 'inc-1',
});

function tableHolds(items: Record<string, unknown>[]): void {
  ddb.on(QueryCommand).resolves({ Items: items });
}

const env = (over: Record<string, string | undefined> = {}) => ({
  WARDEN_EXCEPTION_TABLE: 'warden-exceptions', WARDEN_POLICY_STORE: STORE, WARDEN_EXCEPTIONS_KMS_KEY_ID: KEY_ARN, WARDEN_POLICY_BUCKET_OWNER: '123456789012', ...over,
});
const clients = (logs: string[] = []) => ({ dynamo: new DynamoDBClient({ region: 'us-east-1' }), kms: new KMSClient({ region: 'us-east-1' }), s3: new S3Client({ region: 'us-east-1' }), clock: { nowMs: () => NOW }, log: (l: string) => logs.push(l) });

beforeEach(() => { kms.reset(); s3.reset(); ddb.reset(); });

describe('the exceptions publisher Lambda (KMS, S3 and DynamoDB mocked)', () => {
  it('publishes exactly the function\'s active exceptions, signed with the pinned exceptions key, without kms:GetPublicKey', async () => {
    const key = ecKey();
    kmsSignsWith(key.privateKey);
    const objects = fakeS3();
    const logs: string[] = [];
    tableHolds([
      record('exc_live', 'api.partner.example', '2026-11-24T04:00:00.000Z'),
      record('exc_old', 'old.example', '2026-11-23T19:00:00.000Z'),
      { functionName: FN, exceptionId: 'exc_bad', access: { kind: 'http' }, expiresAt: 'soon' },
    ]);
    const deps = await publishDepsFromEnv(env({ WARDEN_EXCEPTIONS_PUBLIC_KEY: key.publicPem }), clients(logs));
    const r = await runPublishExceptions({ task: 'publish', functionName: FN }, deps);
    expect(r).toMatchObject({ functionName: FN, count: 1, expired: 1, unchanged: false, key: 'exceptions/payments-worker.json', store: STORE });
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(0);
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input.KeyId).toBe(KEY_ARN);
    const put = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ Bucket: 'warden-policy-store', Key: OBJECT, IfNoneMatch: '*', ExpectedBucketOwner: '123456789012', ChecksumSHA256: expect.any(String) });
    const doc = decodeSigned('exceptions', objects.get(OBJECT)!, createVerifier(key.publicPem), OBJECT);
    expect(doc).toMatchObject({ kind: 'exceptions', functionName: FN, sequence: Math.floor(NOW / 1000), publishedBy: 'warden approval workflow' });
    expect(doc.exceptions).toEqual([{ exceptionId: 'exc_live', approvalId: 'apr_exc_live', grantedBy: 'U0APPROVER1', access: { kind: 'http', host: 'api.partner.example', port: 443 }, expiresAt: '2026-11-24T04:00:00.000Z' }]);
    // the malformed record is left out (fail closed) and logged
    expect(logs.some((l) => l.includes('malformed exception record') && l.includes('exc_bad'))).toBe(true);
  });

  it('a second publish replaces the document conditionally, with a higher sequence; the same set again writes nothing', async () => {
    const key = ecKey();
    kmsSignsWith(key.privateKey);
    const objects = fakeS3();
    tableHolds([record('exc_1', 'a.example', '2026-11-24T04:00:00.000Z')]);
    const deps = await publishDepsFromEnv(env({ WARDEN_EXCEPTIONS_PUBLIC_KEY: key.publicPem }), clients());
    const first = await runPublishExceptions({ task: 'publish', functionName: FN }, deps);
    tableHolds([record('exc_1', 'a.example', '2026-11-24T04:00:00.000Z'), record('exc_2', 'b.example', '2026-11-24T04:00:00.000Z')]);
    const second = await runPublishExceptions({ task: 'publish', functionName: FN }, deps);
    expect(second.sequence).toBe(first.sequence + 1);
    expect(s3.commandCalls(PutObjectCommand)[1]!.args[0].input).toMatchObject({ IfMatch: expect.any(String) });
    expect(decodeSigned('exceptions', objects.get(OBJECT)!, createVerifier(key.publicPem), OBJECT).exceptions.map((e) => e.exceptionId)).toEqual(['exc_1', 'exc_2']);
    const third = await runPublishExceptions({ task: 'publish', functionName: FN }, deps);
    expect(third).toMatchObject({ unchanged: true, sequence: second.sequence });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(2);
  });

  it('revocation: an exception deleted from the table is gone from the next document', async () => {
    const key = ecKey();
    kmsSignsWith(key.privateKey);
    const objects = fakeS3();
    tableHolds([record('exc_1', 'a.example', '2026-11-24T04:00:00.000Z')]);
    const deps = await publishDepsFromEnv(env({ WARDEN_EXCEPTIONS_PUBLIC_KEY: key.publicPem }), clients());
    await runPublishExceptions({ task: 'publish', functionName: FN }, deps);
    tableHolds([]);
    expect(await runPublishExceptions({ task: 'publish', functionName: FN }, deps)).toMatchObject({ count: 0, unchanged: false });
    expect(decodeSigned('exceptions', objects.get(OBJECT)!, createVerifier(key.publicPem), OBJECT).exceptions).toEqual([]);
  });

  it('a KMS key that is not the one agents pin is refused before anything is written', async () => {
    const pinned = ecKey();
    kmsSignsWith(ecKey().privateKey); // e.g. the policy signing key's ARN configured by mistake
    fakeS3();
    tableHolds([record('exc_1', 'a.example', '2026-11-24T04:00:00.000Z')]);
    const deps = await publishDepsFromEnv(env({ WARDEN_EXCEPTIONS_PUBLIC_KEY: pinned.publicPem }), clients());
    await expect(runPublishExceptions({ task: 'publish', functionName: FN }, deps)).rejects.toThrow(/signature does not match/);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('without a pinned key it reads the public key from KMS once', async () => {
    const key = ecKey();
    kmsSignsWith(key.privateKey);
    kms.on(GetPublicKeyCommand).resolves({ KeyId: KEY_ARN, PublicKey: key.publicDer, KeyUsage: 'SIGN_VERIFY', KeySpec: 'ECC_NIST_P256', SigningAlgorithms: ['ECDSA_SHA_256'] });
    fakeS3();
    tableHolds([record('exc_1', 'a.example', '2026-11-24T04:00:00.000Z')]);
    const deps = await publishDepsFromEnv(env(), clients());
    expect(await runPublishExceptions({ task: 'publish', functionName: FN }, deps)).toMatchObject({ count: 1 });
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });

  it('a store outage fails the task with StoreError (the state machine retries it)', async () => {
    const key = ecKey();
    kmsSignsWith(key.privateKey);
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    tableHolds([record('exc_1', 'a.example', '2026-11-24T04:00:00.000Z')]);
    const deps = await publishDepsFromEnv(env({ WARDEN_EXCEPTIONS_PUBLIC_KEY: key.publicPem }), clients());
    await expect(runPublishExceptions({ task: 'publish', functionName: FN }, deps)).rejects.toMatchObject({ name: 'StoreError', message: expect.stringMatching(/cannot read s3:\/\/warden-policy-store\/policy\/exceptions\/payments-worker.json/) });
  });

  it('bad settings and bad input say what is wrong', async () => {
    await expect(publishDepsFromEnv(env({ WARDEN_POLICY_STORE: '/tmp/store' }), clients())).rejects.toThrow(/WARDEN_POLICY_STORE: must be s3:\/\/BUCKET\/PREFIX/);
    await expect(publishDepsFromEnv(env({ WARDEN_EXCEPTIONS_KMS_KEY_ID: undefined }), clients())).rejects.toThrow(/WARDEN_EXCEPTIONS_KMS_KEY_ID/);
    const deps = await publishDepsFromEnv(env(), clients());
    await expect(runPublishExceptions({ task: 'publish' }, deps)).rejects.toThrow(/approval.publish: bad input.*functionName/);
  });
});
