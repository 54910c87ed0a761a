import { arn, str, type Extractor } from './context';

/** Kinesis: StreamARN / ConsumerARN / ResourceARN as given, else StreamName → stream ARN. */
export const kinesis: Extractor = (_action, input, ctx) => {
  const given = str(input.StreamARN) ?? str(input.ConsumerARN) ?? str(input.ResourceARN);
  if (given) return [given];
  const name = str(input.StreamName);
  return name ? [arn(ctx, 'kinesis', `stream/${name}`)] : [];
};
