import { arn, isArn, str, type Extractor, type ResourceKey } from './context';

/** KMS: KeyId (SourceKeyId for ReEncrypt) as key id, key ARN, alias name (alias/x) or alias ARN; DestinationKeyId for ReEncrypt too. */
export const kms: Extractor = (action, input, ctx) => {
  const toArn = (id: string | undefined) => {
    if (!id) return undefined;
    if (isArn(id)) return id;
    return arn(ctx, 'kms', id.startsWith('alias/') ? id : `key/${id}`);
  };
  const out = [toArn(str(input.KeyId) ?? str(input.SourceKeyId) ?? (action === 'CreateAlias' || action === 'DeleteAlias' ? str(input.AliasName) : undefined))];
  if (action === 'ReEncrypt') out.push(toArn(str(input.DestinationKeyId)));
  return [...new Set(out.filter((x): x is string => !!x))];
};

/** The one string the KMS extractor's answer depends on: KeyId, except for ReEncrypt (see dynamodbKey). */
export const kmsKey: ResourceKey = (action, input) => (action === 'ReEncrypt' ? undefined : str(input.KeyId));
