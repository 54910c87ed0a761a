import { arn, memo, str, type Extractor, type ExtractContext, type ResourceKey } from './context';

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
export const kinesisKey: ResourceKey = (_action, input) => {
  if (str(input.StreamARN) ?? str(input.ConsumerARN) ?? str(input.ResourceARN)) return undefined;
  return str(input.StreamName);
};
