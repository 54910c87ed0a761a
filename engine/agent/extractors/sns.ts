import { arn, str, type Extractor, type ResourceKey } from './context';

/** SNS: TopicArn / TargetArn / SubscriptionArn / ResourceArn as given; CreateTopic names the topic. */
export const sns: Extractor = (action, input, ctx) => {
  const a = str(input.TopicArn) ?? str(input.TargetArn) ?? str(input.SubscriptionArn) ?? str(input.ResourceArn) ?? str(input.PlatformApplicationArn) ?? str(input.EndpointArn);
  if (a) return [a];
  if (action === 'CreateTopic' && str(input.Name)) return [arn(ctx, 'sns', str(input.Name)!)];
  return [];
};

/** The one string the SNS extractor's answer depends on: TopicArn when given (see dynamodbKey). */
export const snsKey: ResourceKey = (_action, input) => str(input.TopicArn);
