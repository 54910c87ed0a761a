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
