/** Errors of the Slack side of Warden: config files, signatures, interactions, Slack API calls. */
export class WardenSlackError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WardenSlackError';
  }
}

export interface ConfigIssue {
  file: string;
  /** 1-based line of the offending node, when it can be located. */
  line: number | null;
  /** a path such as `groups[1].approvers[0]` ('' for the whole file). */
  path: string;
  message: string;
}

/** A config file (approvers.yaml, escalation.yaml) that cannot be read, parsed or validated. */
export class ConfigFileError extends WardenSlackError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], options?: { cause?: unknown }) {
    super(issues.map((i) => `${i.file}${i.line !== null ? `:${i.line}` : ''}: ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n'), options);
    this.name = 'ConfigFileError';
    this.issues = issues;
  }
}

/** A request whose Slack signature does not verify. `reason` is safe to log, never echoed to the caller. */
export class SignatureError extends WardenSlackError {
  readonly reason: SignatureFailure;
  constructor(reason: SignatureFailure, message: string) {
    super(message);
    this.name = 'SignatureError';
    this.reason = reason;
  }
}
export type SignatureFailure = 'missing-header' | 'malformed-header' | 'stale-timestamp' | 'future-timestamp' | 'mismatch';

/** A Slack Web API call that failed (network, `ok: false`, rate limit). */
export class SlackApiError extends WardenSlackError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlackApiError';
  }
}

/** A workflow task input that does not match what the state machine must pass. */
export class TaskInputError extends WardenSlackError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TaskInputError';
  }
}
