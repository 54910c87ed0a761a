import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createKmsSigner, fetchKmsPublicKeyPem } from '../../engine/distribution/kms-signer';
import { S3PolicyStore } from '../../engine/distribution/s3-store';
import { createVerifier, sha256Hex } from '../../engine/distribution/signing';
import { openStore } from '../../engine/distribution/store';
import { ConcurrentUpdateError, ConfigError, KeyError, StoreError } from '../../engine/distribution/errors';

const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);
beforeEach(() => { kms.reset(); s3.reset(); });

const ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** KMS, simulated with a real key pair: Sign signs exactly what KMS would (RAW message). */
function fakeKms(privateKey: KeyObject, publicKey: KeyObject, keySpec: string, algorithm: string, hash: string | null, padding?: number) {
  kms.on(GetPublicKeyCommand).resolves({
    KeyId: ARN, KeySpec: keySpec as never, KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: [algorithm as never],
    PublicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
  });
  kms.on(SignCommand).callsFake((input: { Message: Uint8Array; MessageType: string; SigningAlgorithm: string }) => {
    expect(input.MessageType).toBe('RAW');
    expect(input.SigningAlgorithm).toBe(algorithm);
    return { Signature: new Uint8Array(cryptoSign(hash, Buffer.from(input.Message), { key: privateKey, padding, saltLength: padding ? 32 : undefined })) };
  });
}

describe('KMS signer', () => {
  const digest = sha256Hex('bundle bytes');

  it.each([
    ['ECC_NIST_P256', 'ECDSA_SHA_256', () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }), 'sha256', undefined],
    ['ECC_NIST_EDWARDS25519', 'ED25519_SHA_512', () => generateKeyPairSync('ed25519'), null, undefined],
    ['RSA_2048', 'RSASSA_PSS_SHA_256', () => generateKeyPairSync('rsa', { modulusLength: 2048 }), 'sha256', 6],
  ] as const)('signs with a %s key (%s) and the signature verifies locally', async (spec, alg, gen, hash, padding) => {
    const { privateKey, publicKey } = gen();
    fakeKms(privateKey, publicKey, spec, alg, hash, padding);
    const signer = createKmsSigner({ client: new KMSClient({ region: 'us-east-1' }), kmsKeyId: 'alias/warden-policy' });
    const sig = await signer.sign('bundle', digest);
    expect(() => createVerifier(publicKey).verifyDigest('bundle', digest, sig)).not.toThrow();
    await signer.sign('pointer', digest);
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input.KeyId).toBe(ARN);
  });

  it('fails when KMS returns a signature from another key', async () => {
    const { privateKey: _unused, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    fakeKms(other.privateKey, publicKey, 'ECC_NIST_P256', 'ECDSA_SHA_256', 'sha256');
    await expect(createKmsSigner({ client: new KMSClient({}), kmsKeyId: ARN }).sign('bundle', digest)).rejects.toThrow(/does not match/);
  });

  it('refuses an encryption key and explains how to create a signing key', async () => {
    kms.on(GetPublicKeyCommand).resolves({ KeyId: ARN, KeyUsage: 'ENCRYPT_DECRYPT', PublicKey: new Uint8Array(1) });
    await expect(createKmsSigner({ client: new KMSClient({}), kmsKeyId: ARN }).sign('bundle', digest)).rejects.toThrow(/SIGN_VERIFY/);
  });

  it('reports a KMS permission error with the permission needed, and retries the lookup next time', async () => {
    kms.on(GetPublicKeyCommand).rejectsOnce(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const signer = createKmsSigner({ client: new KMSClient({}), kmsKeyId: ARN });
    await expect(signer.sign('bundle', digest)).rejects.toThrow(/kms:GetPublicKey/);
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    fakeKms(privateKey, publicKey, 'ECC_NIST_EDWARDS25519', 'ED25519_SHA_512', null);
    await expect(signer.sign('bundle', digest)).resolves.toMatchObject({ algorithm: 'ed25519' });
  });

  it('exports the public key as PEM for agents to pin', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    fakeKms(privateKey, publicKey, 'ECC_NIST_P256', 'ECDSA_SHA_256', 'sha256');
    const pem = await fetchKmsPublicKeyPem(new KMSClient({}), ARN);
    expect(pem).toBe(publicKey.export({ type: 'spki', format: 'pem' }));
  });

  it('KeyError is what callers see', async () => {
    kms.on(GetPublicKeyCommand).rejects(new Error('boom'));
    await expect(createKmsSigner({ client: new KMSClient({}), kmsKeyId: ARN }).publicKey()).rejects.toBeInstanceOf(KeyError);
  });
});

// The SDK's streaming body, reduced to the one method the store uses.
const body = (text: string) => ({ transformToByteArray: async () => new Uint8Array(Buffer.from(text)) }) as never;

describe('S3 store', () => {
  const store = () => new S3PolicyStore({ client: new S3Client({ region: 'us-east-1' }), bucket: 'warden-policy', prefix: 'prod' });

  it('reads an object under the prefix with its ETag', async () => {
    s3.on(GetObjectCommand, { Bucket: 'warden-policy', Key: 'prod/current.json' }).resolves({ Body: body('{"a":1}'), ETag: '"e1"' });
    const obj = await store().get('current.json');
    expect(Buffer.from(obj!.body).toString()).toBe('{"a":1}');
    expect(obj!.etag).toBe('"e1"');
  });

  it('returns undefined for a missing key and a StoreError for access denied', async () => {
    s3.on(GetObjectCommand).rejectsOnce(Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }))
      .rejectsOnce(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    await expect(store().get('current.json')).resolves.toBeUndefined();
    await expect(store().get('current.json')).rejects.toThrow(/s3:GetObject/);
  });

  it('refuses an oversized object without reading it', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body('x'), ContentLength: 1024 ** 3 });
    await expect(store().get('bundles/x.json')).rejects.toThrow(/over the .*limit/);
  });

  it('writes immutably with If-None-Match and an integrity checksum; the pointer with If-Match', async () => {
    s3.on(PutObjectCommand).resolves({});
    const bytes = Buffer.from('bundle');
    await store().put('bundles/sha256-ab.json', bytes, { ifAbsent: true });
    await store().put('current.json', bytes, { ifMatch: '"e1"' });
    const [first, second] = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(first).toMatchObject({ Bucket: 'warden-policy', Key: 'prod/bundles/sha256-ab.json', IfNoneMatch: '*', ChecksumSHA256: createHash('sha256').update(bytes).digest('base64') });
    expect(first!.IfMatch).toBeUndefined();
    expect(second).toMatchObject({ Key: 'prod/current.json', IfMatch: '"e1"' });
    expect(second!.IfNoneMatch).toBeUndefined();
  });

  it('maps a failed precondition to ConcurrentUpdateError and other failures to StoreError', async () => {
    s3.on(PutObjectCommand).rejectsOnce(Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } }))
      .rejectsOnce(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    await expect(store().put('current.json', Buffer.from('x'), { ifMatch: '"old"' })).rejects.toThrow(ConcurrentUpdateError);
    await expect(store().put('current.json', Buffer.from('x'))).rejects.toThrow(/s3:PutObject/);
  });

  it('sends the expected bucket owner on every request when configured', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body('{}'), ETag: '"e"' });
    s3.on(PutObjectCommand).resolves({});
    const owned = (await openStore('s3://warden-policy/prod', { s3Client: new S3Client({ region: 'us-east-1' }), expectedBucketOwner: '123456789012' }));
    await owned.get('current.json');
    await owned.put('current.json', Buffer.from('x'));
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input.ExpectedBucketOwner).toBe('123456789012');
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input.ExpectedBucketOwner).toBe('123456789012');
    await expect(openStore('s3://warden-policy', { expectedBucketOwner: 'acme' })).rejects.toThrow(/12-digit/);
    await store().get('current.json');
    expect(s3.commandCalls(GetObjectCommand)[1]!.args[0].input.ExpectedBucketOwner).toBeUndefined();
  });

  it('rejects keys that could escape the prefix', async () => {
    await expect(store().get('../other/current.json')).rejects.toThrow(StoreError);
  });
});

describe('openStore', () => {
  it('opens s3 and directory stores and rejects anything else', async () => {
    const s = await openStore('s3://warden-policy/prod/', { s3Client: new S3Client({ region: 'us-east-1' }) });
    expect(s.url).toBe('s3://warden-policy/prod');
    const d = await openStore('file:///tmp/warden-store');
    expect(d.url).toBe('file:///tmp/warden-store');
    await expect(openStore('https://example.com/x')).rejects.toThrow(ConfigError);
    await expect(openStore('s3://Bad_Bucket')).rejects.toThrow(/invalid S3 store URL/);
    await expect(openStore('  ')).rejects.toThrow(/WARDEN_POLICY_STORE/);
  });
});
