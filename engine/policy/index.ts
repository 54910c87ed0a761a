export { loadRulesDir, loadRulesFromFiles, type RulesRepo, type SourceFile, type Located } from './loader';
export { compilePolicy, normalizeRepo, hashPolicy, WardenPolicy, INTERNAL_ERROR_RULE, type AllowException } from './compile';
export { toBundle, readBundle, loadBundleFile, readBundleFor, loadBundleFileFor, ScopedPolicy, BUNDLE_FORMAT, BUNDLE_FORMATS, type PolicyBundle, type BundleIndex, type ByteSpan } from './bundle';
export { ruleIdFor, normalizeEntry, type NormalizedEntry, type NormalizedGroup, type NormalizedPolicy } from './normalize';
export { PolicyError, RulesLoadError, BundleError, formatIssue, type RulesIssue } from './errors';
export * from './schema';
export type { CompiledPolicy, ListVerdict, ResponseFacts, ResponseSelector } from './types';
