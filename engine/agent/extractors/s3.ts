import { str, type Extractor } from './context';

/** S3: bucket ARN for bucket operations, object ARN (bucket/key) when a Key is given; access-point ARNs kept as given. */
export const s3: Extractor = (_action, input, ctx) => {
  const bucket = str(input.Bucket);
  if (!bucket) return [];
  const key = str(input.Key);
  if (bucket.startsWith('arn:')) return [key ? `${bucket}/object/${key}` : bucket];
  const base = `arn:${ctx.partition}:s3:::${bucket}`;
  return [key !== undefined ? `${base}/${key}` : base];
};
