import { arn, memo, str, type Extractor, type ExtractContext } from './context';

const streamArn = (ctx: ExtractContext, name: string) => arn(ctx, 'kinesis', `stream/${name}`);

/** Kinesis: StreamARN / ConsumerARN / ResourceARN as given, else StreamName → stream ARN. */
export const kinesis: Extractor = (_action, input, ctx) => {
  const given = str(input.StreamARN) ?? str(input.ConsumerARN) ?? str(input.ResourceARN);
  if (given) return [given];
  const name = str(input.StreamName);
  const a = name ? memo(ctx, 'kinesis:stream', name, streamArn) : undefined;
  return a ? [a] : [];
};

/** The one string the Kinesis extractor's answer depends on: StreamName, when no ARN is given (see dynamodbKey). */
export const kinesisKey = (_action: string, input: Record<string, unknown>): string | undefined => {
  const given = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (given(input.StreamARN) || given(input.ConsumerARN) || given(input.ResourceARN)) return undefined;
  const n = input.StreamName;
  return typeof n === 'string' && n.length > 0 ? n : undefined;
};
