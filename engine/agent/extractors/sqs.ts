import { arn, memo, str, type Extractor, type ResourceKey } from './context';

/** The queue ARN from a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>, also local endpoints). */
export function queueArnFromUrl(url: string, ctx: Parameters<Extractor>[2]): string | undefined {
  const m = /^[a-z]+:\/\/([^/]+)\/(\d{12})\/([^/?#]+)/i.exec(url);
  if (!m) return undefined;
  const region = /^sqs\.([a-z0-9-]+)\.amazonaws\.com/i.exec(m[1]!)?.[1] ?? /^([a-z0-9-]+)\.queue\.amazonaws\.com/i.exec(m[1]!)?.[1] ?? ctx.region;
  return arn(ctx, 'sqs', m[3]!, { region, account: m[2]! });
}

const queueArnOf = (ctx: Parameters<Extractor>[2], url: string) => queueArnFromUrl(url, ctx);

/** SQS: QueueUrl → queue ARN; CreateQueue/GetQueueUrl name the queue by QueueName. */
export const sqs: Extractor = (_action, input, ctx) => {
  const url = str(input.QueueUrl);
  if (url) { const a = memo(ctx, 'sqs:url', url, queueArnOf); return a ? [a] : []; }
  const name = str(input.QueueName);
  if (name) return [arn(ctx, 'sqs', name, { account: str(input.QueueOwnerAWSAccountId) ?? ctx.account })];
  return [];
};

/** The one string the SQS extractor's answer depends on (with the context): the queue URL when given (see dynamodbKey). */
export const sqsKey: ResourceKey = (_action, input) => str(input.QueueUrl);
