import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { ConcurrentUpdateError, StoreError } from './errors';
import { assertValidKey, MAX_OBJECT_BYTES, type PolicyStore, type PutOptions, type StoredObject } from './store';

interface AwsError { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } }

/**
 * The store on AWS: one S3 bucket (versioned, encrypted, private; created by the stack).
 * Bundles are written with `If-None-Match: *` (immutable), the pointer with `If-Match` on the
 * ETag it replaced (a concurrent publish fails instead of being lost), and every upload carries
 * its SHA-256 so S3 rejects a corrupted transfer.
 */
export class S3PolicyStore implements PolicyStore {
  readonly url: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  /** the account that must own the bucket: a bucket re-created under the same name by someone else is refused. */
  private readonly owner: { ExpectedBucketOwner?: string };

  constructor(opts: { client: S3Client; bucket: string; prefix?: string; expectedBucketOwner?: string }) {
    this.client = opts.client;
    this.bucket = opts.bucket;
    this.owner = opts.expectedBucketOwner ? { ExpectedBucketOwner: opts.expectedBucketOwner } : {};
    this.prefix = (opts.prefix ?? '').replace(/\/+$/, '');
    this.url = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
  }

  private key(key: string): string {
    assertValidKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const Key = this.key(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, ...this.owner }));
      if (out.ContentLength !== undefined && out.ContentLength > MAX_OBJECT_BYTES) {
        throw new StoreError(`s3://${this.bucket}/${Key} is ${out.ContentLength} bytes, over the ${MAX_OBJECT_BYTES}-byte limit; refusing to load it`);
      }
      if (!out.Body) throw new StoreError(`s3://${this.bucket}/${Key} returned no body`);
      const body = await out.Body.transformToByteArray();
      return { body, etag: out.ETag ?? '' };
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const e = err as AwsError;
      if (e.name === 'NoSuchKey' || e.Code === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw new StoreError(`cannot read s3://${this.bucket}/${Key}: ${e.name ?? 'Error'}: ${e.message ?? String(err)} (needs s3:GetObject on the bucket)`, { cause: err });
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<void> {
    const Key = this.key(key);
    try {
      await this.client.send(new PutObjectCommand({
        Bucket: this.bucket,
        Key,
        ...this.owner,
        Body: body,
        ContentType: options.contentType ?? 'application/json',
        ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
        ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}),
        ...(options.ifMatch !== undefined ? { IfMatch: options.ifMatch } : {}),
      }));
    } catch (err) {
      const e = err as AwsError;
      const status = e.$metadata?.httpStatusCode;
      if (e.name === 'PreconditionFailed' || e.name === 'ConditionalRequestConflict' || status === 412 || status === 409) {
        throw new ConcurrentUpdateError(
          options.ifAbsent ? `s3://${this.bucket}/${Key} already exists` : `s3://${this.bucket}/${Key} changed since it was read (another publish?); re-run the command`,
          { cause: err },
        );
      }
      throw new StoreError(`cannot write s3://${this.bucket}/${Key}: ${e.name ?? 'Error'}: ${e.message ?? String(err)} (needs s3:PutObject on the bucket)`, { cause: err });
    }
  }
}
