/** Public API of policy distribution (see README.md). Heavy AWS clients load only when used. */
export { createPolicySource, DEFAULT_REFRESH_MS, type BundleLoader, type Clock, type ExceptionSet, type PolicySource, type PolicySnapshot, type PolicySourceEvent, type PolicySourceOptions, type RefreshOutcome, type RejectReason, type RejectedWhat } from './policy-source';
export { publishExceptions, type PublishExceptionsOptions, type PublishExceptionsResult } from './exceptions';
export { publishBundle, rollbackTo, setKillSwitch, type PublishOptions, type PublishResult, type KillSwitchResult } from './publish';
export { createLocalSigner, createVerifier, generateSigningKeyPair, keyFingerprint, parsePublicKeys, sha256Hex, type Signature, type SignatureAlgorithm, type Signer, type Verifier } from './signing';
export { openStore, bundleKeys, exceptionsKey, EXCEPTIONS_PREFIX, POINTER_KEY, CONTROL_KEY, type PolicyStore, type StoredObject, type PutOptions } from './store';
export { LocalDirectoryStore } from './local-store';
export { createLocalDistribution, type LocalDistribution } from './local';
export { policySourceFromEnv, parseDistributionEnv, formatPolicySourceEvent, exceptionKeysFromEnv, DistributionEnvSchema, type SourceFromEnvOptions } from './runtime';
export { defaultBundleLoader } from './bundle-loader';
export { checkCodeOwners, checkCodeOwnersDir, renderCodeOwners, writeCodeOwners, OwnersFileSchema, type OwnersFile, type OwnershipFinding, type CodeOwnersReport } from './codeowners';
export type { Pointer, Control, KillSwitch, SourceInfo, BundleSignatureFile, ExceptionGrant, ExceptionsDoc } from './documents';
export { engineEvaluatorFromEnv, evaluatorFromSource, reportSourceEvents } from './engine-source';
export { startAgentPolicyRefresh, exemptFromCapture, type AgentPolicyUpdate, type AgentRefreshOptions } from './agent-refresh';
export * from './errors';
