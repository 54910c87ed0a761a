/**
 * Errors of workflow task handlers. `name` is what Step Functions sees as the Error of a failed
 * Lambda task (errorType), so the state machines Retry on `Warden.Throttling` and Catch the rest.
 */
export class WorkflowError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Warden.WorkflowError';
  }
}

/** The task input does not match what the state machine must pass (a wiring bug, never retried). */
export class TaskInputError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Warden.InvalidInput';
  }
}

/** An AWS call was throttled: retried with backoff by the state machine. */
export class AccountThrottledError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Warden.Throttling';
  }
}

/** Warden's role may not do this: the workflow records what it did, escalates and fails. */
export class AccountAccessDeniedError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Warden.AccessDenied';
  }
}

export class AccountNotFoundError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Warden.NotFound';
  }
}

export class AccountLimitError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Warden.LimitExceeded';
  }
}

/** Any other failed AWS call. */
export class AccountCallError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Warden.AccountError';
  }
}

/** The snapshot is missing, belongs to another function, or cannot be stored. */
export class SnapshotError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Warden.SnapshotError';
  }
}

/** Restore finished but the role or function still differs from the snapshot. */
export class RestoreMismatchError extends WorkflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Warden.RestoreMismatch';
  }
}

/** ASL error names the workflows retry with backoff (Lambda tasks and aws-sdk integrations). */
export const THROTTLING_ERRORS = [
  'Warden.Throttling', 'Iam.ThrottlingException', 'Iam.Throttling', 'Lambda.TooManyRequestsException',
  'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException',
];

/** Maps an AWS SDK (or simulated account) error to the workflow hierarchy by its name. */
export function mapAwsError(err: unknown, what: string): WorkflowError {
  const name = (err as { name?: string })?.name ?? '';
  const msg = `${what}: ${name || 'Error'}: ${(err as Error)?.message ?? String(err)}`;
  if (err instanceof WorkflowError) return err;
  if (/^(Throttling|ThrottlingException|TooManyRequestsException|RequestLimitExceeded)$/.test(name)) return new AccountThrottledError(msg, { cause: err });
  if (/^AccessDenied/.test(name) || name === 'UnauthorizedOperation') return new AccountAccessDeniedError(msg, { cause: err });
  if (/^(NoSuchEntity|ResourceNotFound)/.test(name)) return new AccountNotFoundError(msg, { cause: err });
  if (/^LimitExceeded/.test(name)) return new AccountLimitError(msg, { cause: err });
  return new AccountCallError(msg, { cause: err });
}
