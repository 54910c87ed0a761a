import { arn, isArn, memo, str, uniq, type Extractor, type ExtractContext, type ResourceKey } from './context';

/**
 * Secrets Manager: SecretId (name or ARN). From a name the random 6-character suffix of the real ARN
 * is unknown, so the ARN ends with the name: write rules as `...:secret:name*`.
 */
const secretArn = (ctx: ExtractContext, id: string) => arn(ctx, 'secretsmanager', `secret:${id}`);
const secret = (ctx: ExtractContext, id: string | undefined) => (id ? (isArn(id) ? id : memo(ctx, 'secretsmanager:secret', id, secretArn)) : undefined);

export const secretsmanager: Extractor = (action, input, ctx) => {
  if (action === 'BatchGetSecretValue') {
    return uniq((Array.isArray(input.SecretIdList) ? input.SecretIdList : []).map((s) => secret(ctx, str(s))));
  }
  const one = secret(ctx, str(input.SecretId) ?? (action === 'CreateSecret' ? str(input.Name) : undefined));
  return one ? [one] : [];
};

/** The one string the Secrets Manager extractor's answer depends on: SecretId, outside batch reads (see dynamodbKey). */
export const secretsmanagerKey: ResourceKey = (action, input) => (action === 'BatchGetSecretValue' ? undefined : str(input.SecretId));
