import { arn, isArn, memo, str, uniq, type Extractor, type ExtractContext, type ResourceKey } from './context';

const tableArn = (ctx: ExtractContext, name: string) => arn(ctx, 'dynamodb', `table/${name}`);
const table = (ctx: ExtractContext, name: string | undefined) => (name ? (isArn(name) ? name : memo(ctx, 'dynamodb:table', name, tableArn)) : undefined);

/** DynamoDB: TableName (or a table ARN); batch and transact operations act on every table they name. */
export const dynamodb: Extractor = (action, input, ctx) => {
  if (action === 'BatchGetItem' || action === 'BatchWriteItem') {
    const items = input.RequestItems;
    return items && typeof items === 'object' ? uniq(Object.keys(items).map((t) => table(ctx, t))) : [];
  }
  if (action === 'TransactWriteItems' || action === 'TransactGetItems') {
    const list = Array.isArray(input.TransactItems) ? input.TransactItems : [];
    return uniq(list.flatMap((it) => {
      if (!it || typeof it !== 'object') return [];
      return Object.values(it as Record<string, unknown>).map((op) => table(ctx, str((op as { TableName?: unknown } | null)?.TableName)));
    }));
  }
  const name = str(input.TableName) ?? str(input.TableArn) ?? str(input.ResourceArn);
  const t = table(ctx, name);
  if (!t) return [];
  const index = str(input.IndexName);
  return [index && !isArn(name!) ? `${t}/index/${index}` : t];
};

/**
 * The one string the DynamoDB extractor's answer depends on for this call (with the context), or
 * undefined when it depends on more: lets the SDK capture recognize a repeat of its last call
 * without extracting again. TableName wins over TableArn/ResourceArn; an index or a batch/transact
 * operation names more than the table.
 */
export const dynamodbKey: ResourceKey = (action, input) => {
  if (action === 'BatchGetItem' || action === 'BatchWriteItem' || action === 'TransactWriteItems' || action === 'TransactGetItems') return undefined;
  return str(input.IndexName) === undefined ? str(input.TableName) : undefined;
};
