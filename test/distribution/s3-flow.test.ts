import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { createPolicySource } from '../../engine/distribution/policy-source';
import { publishBundle, setKillSwitch } from '../../engine/distribution/publish';
import { S3PolicyStore } from '../../engine/distribution/s3-store';
import { createLocalSigner, generateSigningKeyPair } from '../../engine/distribution/signing';
import { ConcurrentUpdateError } from '../../engine/distribution/errors';
import { loadTestBundle, makeBundle, manualClock } from './helpers';

const s3 = mockClient(S3Client);

/** S3's object semantics that the store relies on: ETags, If-None-Match: *, If-Match, checksums. */
function fakeBucket() {
  const objects = new Map<string, { body: Buffer; etag: string }>();
  const err = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  s3.on(GetObjectCommand).callsFake(({ Key }: { Key: string }) => {
    const o = objects.get(Key);
    if (!o) throw err('NoSuchKey', 404);
    return { Body: { transformToByteArray: async () => new Uint8Array(o.body) }, ETag: o.etag, ContentLength: o.body.length };
  });
  s3.on(PutObjectCommand).callsFake(({ Key, Body, IfNoneMatch, IfMatch, ChecksumSHA256 }: { Key: string; Body: Uint8Array; IfNoneMatch?: string; IfMatch?: string; ChecksumSHA256?: string }) => {
    const body = Buffer.from(Body);
    if (ChecksumSHA256 !== createHash('sha256').update(body).digest('base64')) throw err('BadDigest', 400);
    const existing = objects.get(Key);
    if (IfNoneMatch === '*' && existing) throw err('PreconditionFailed', 412);
    if (IfMatch !== undefined && existing?.etag !== IfMatch) throw err('PreconditionFailed', 412);
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    objects.set(Key, { body, etag });
    return { ETag: etag };
  });
  return objects;
}

beforeEach(() => s3.reset());

describe('publish and load through S3', () => {
  const keys = generateSigningKeyPair('ecdsa-p256');
  const signer = createLocalSigner(keys.privateKeyPem);
  const v1 = makeBundle({ deny: ['a.example'], mode: 'block' });
  const v2 = makeBundle({ deny: ['b.example'], mode: 'block' });

  it('writes content-addressed objects under the prefix, moves the pointer conditionally, and agents follow', async () => {
    const objects = fakeBucket();
    const store = new S3PolicyStore({ client: new S3Client({ region: 'us-east-1' }), bucket: 'warden-policy', prefix: 'policy' });
    const clock = manualClock();
    await publishBundle({ store, signer, clock, publishedBy: 'ci', bundle: v1.text, loadBundle: loadTestBundle });
    expect([...objects.keys()].sort()).toEqual([
      `policy/bundles/${v1.policyVersion.replace(':', '-')}.json`,
      `policy/bundles/${v1.policyVersion.replace(':', '-')}.sig`,
      'policy/current.json',
    ]);
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual([
      `policy/bundles/${v1.policyVersion.replace(':', '-')}.json`, `policy/bundles/${v1.policyVersion.replace(':', '-')}.sig`, 'policy/current.json',
    ]);
    expect(puts[0]!.IfNoneMatch).toBe('*');
    expect(puts[2]!.IfNoneMatch).toBe('*'); // the first pointer: only if there is none yet

    const source = createPolicySource({ store, publicKey: keys.publicKeyPem, loadBundle: loadTestBundle, clock, refreshMs: 0 });
    await source.start();
    expect(source.version).toBe(v1.policyVersion);

    await publishBundle({ store, signer, clock, publishedBy: 'ci', bundle: v2.text, loadBundle: loadTestBundle });
    const pointerPut = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input).filter((p) => p.Key === 'policy/current.json')[1]!;
    expect(pointerPut.IfMatch).toMatch(/^"[0-9a-f]{32}"$/);
    await setKillSwitch({ store, signer, clock, engaged: true, reason: 'drill', updatedBy: 'oncall' });
    await source.refresh();
    expect(source.version).toBe(v2.policyVersion);
    expect(source.current().modeFor('x')).toBe('monitor');
  });

  it('a publish that loses the race for the pointer fails, and the winner stays current', async () => {
    const objects = fakeBucket();
    const store = new S3PolicyStore({ client: new S3Client({ region: 'us-east-1' }), bucket: 'warden-policy' });
    const clock = manualClock();
    await publishBundle({ store, signer, clock, publishedBy: 'ci', bundle: v1.text, loadBundle: loadTestBundle });
    const racing = Object.create(store) as S3PolicyStore;
    racing.put = async (key, body, opts) => {
      if (key === 'current.json') {
        const winner = objects.get('current.json')!;
        objects.set('current.json', { ...winner, etag: '"moved-by-someone-else"' });
      }
      return store.put(key, body, opts);
    };
    await expect(publishBundle({ store: racing, signer, clock, publishedBy: 'late', bundle: v2.text, loadBundle: loadTestBundle }))
      .rejects.toThrow(ConcurrentUpdateError);
    const source = createPolicySource({ store, publicKey: keys.publicKeyPem, loadBundle: loadTestBundle, clock, refreshMs: 0 });
    await source.start();
    expect(source.version).toBe(v1.policyVersion);
  });
});
