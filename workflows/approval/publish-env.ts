/** Environment of the exceptions publisher Lambda (set by ApprovalWorkflow, read by publish-handler.ts). */
export const PUBLISH_ENV = {
  /** s3://BUCKET/PREFIX of the policy store */
  store: 'WARDEN_POLICY_STORE',
  /** ARN of the exceptions signing key (KMS, SIGN_VERIFY) */
  kmsKeyId: 'WARDEN_EXCEPTIONS_KMS_KEY_ID',
  /** its public key as agents pin it (optional) */
  publicKey: 'WARDEN_EXCEPTIONS_PUBLIC_KEY',
  /** the account that must own the store bucket */
  bucketOwner: 'WARDEN_POLICY_BUCKET_OWNER',
} as const;
