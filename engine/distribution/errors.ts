/**
 * One error hierarchy for engine/distribution. Every class sets `name`, passes `cause`, and says
 * what was wrong and how to fix it.
 */
export class DistributionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DistributionError';
  }
}

/** The store could not be read or written (network, permissions, disk), as opposed to "missing". */
export class StoreError extends DistributionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** A conditional write lost a race (another publisher moved the pointer first). */
export class ConcurrentUpdateError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConcurrentUpdateError';
  }
}

/** A signature is missing, malformed, from an untrusted key, or does not verify. */
export class SignatureError extends DistributionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignatureError';
  }
}

/** A key could not be read, generated or used (wrong type, wrong format, KMS refused). */
export class KeyError extends DistributionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyError';
  }
}

/** A stored document (pointer, control, signature file, bundle) is malformed or inconsistent. */
export class DocumentError extends DistributionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DocumentError';
  }
}

/** No verified policy is available and there is no fallback: the caller must not run unguarded. */
export class PolicyUnavailableError extends DistributionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyUnavailableError';
  }
}

/** Bad configuration (store URL, environment variables, CLI options). */
export class ConfigError extends DistributionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}
