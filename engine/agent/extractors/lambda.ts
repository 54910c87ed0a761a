import { arn, str, type Extractor, type ExtractContext, type ResourceKey } from './context';

/** Normalizes a function name, partial ARN (account:function:name) or full ARN, with an optional qualifier. */
export function functionArn(ctx: ExtractContext, name: string, qualifier?: string): string {
  let base: string;
  if (name.startsWith('arn:')) base = name;
  else if (/^\d{12}:function:/.test(name)) base = `arn:${ctx.partition}:lambda:${ctx.region}:${name}`;
  else base = arn(ctx, 'lambda', `function:${name}`);
  const hasQualifier = /:function:[^:]+:[^:]+$/.test(base);
  return qualifier && !hasQualifier ? `${base}:${qualifier}` : base;
}

/** Lambda: FunctionName in any of its forms (plus Qualifier) → function ARN; layers by LayerName. */
export const lambda: Extractor = (_action, input, ctx) => {
  const fn = str(input.FunctionName);
  if (fn) return [functionArn(ctx, fn, str(input.Qualifier))];
  const layer = str(input.LayerName);
  if (layer) return [layer.startsWith('arn:') ? layer : arn(ctx, 'lambda', `layer:${layer}`)];
  const res = str(input.Resource) ?? str(input.ResourceArn);
  return res ? [res] : [];
};

/** The one string the Lambda extractor's answer depends on: FunctionName, when no Qualifier is given (see dynamodbKey). */
export const lambdaKey: ResourceKey = (_action, input) => (str(input.Qualifier) === undefined ? str(input.FunctionName) : undefined);
