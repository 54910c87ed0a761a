import { arn, isArn, str, uniq, type Extractor, type ExtractContext, type ResourceKey } from './context';

/** A parameter name ("/app/db" or "app-db") or ARN → parameter ARN (IAM form: parameter/app/db). */
export function parameterArn(ctx: ExtractContext, name: string): string {
  if (isArn(name)) return name;
  return arn(ctx, 'ssm', `parameter${name.startsWith('/') ? '' : '/'}${name}`);
}

/** SSM Parameter Store: Name / Names / Path; documents and other SSM resources by Name when the action says so. */
export const ssm: Extractor = (action, input, ctx) => {
  if (action === 'GetParameters' || action === 'DeleteParameters') {
    return uniq((Array.isArray(input.Names) ? input.Names : []).map((n) => (str(n) ? parameterArn(ctx, str(n)!) : undefined)));
  }
  if (action === 'GetParametersByPath') { const p = str(input.Path); return p ? [parameterArn(ctx, p)] : []; }
  if (/Document/.test(action)) { const n = str(input.Name); return n ? [isArn(n) ? n : arn(ctx, 'ssm', `document/${n}`)] : []; }
  if (/Parameter/.test(action)) { const n = str(input.Name); return n ? [parameterArn(ctx, n)] : []; }
  const r = str(input.ResourceId);
  return r && isArn(r) ? [r] : [];
};

/** The one string the SSM extractor's answer depends on: Name, for the single-parameter operations (see dynamodbKey). */
export const ssmKey: ResourceKey = (action, input) => {
  if (action === 'GetParameters' || action === 'DeleteParameters' || action === 'GetParametersByPath' || action.includes('Document') || !action.includes('Parameter')) return undefined;
  return str(input.Name);
};
