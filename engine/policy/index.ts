export { loadRulesDir, loadRulesFromFiles, type RulesRepo, type SourceFile, type Located } from './loader';
export { compilePolicy, normalizeRepo, hashPolicy, WardenPolicy, INTERNAL_ERROR_RULE, type AllowException } from './compile';
export { toBundle, readBundle, loadBundleFile, BUNDLE_FORMAT, type PolicyBundle } from './bundle';
export { ruleIdFor, normalizeEntry, type NormalizedEntry, type NormalizedGroup, type NormalizedPolicy } from './normalize';
export { PolicyError, RulesLoadError, BundleError, formatIssue, type RulesIssue } from './errors';
export * from './schema';
export type { CompiledPolicy, ListVerdict, ResponseFacts, ResponseSelector } from './types';
