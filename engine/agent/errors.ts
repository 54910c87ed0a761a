/** Errors of the agent. Each class sets `name` and passes `cause`. */
import type { Access, Mode, Verdict } from '../events/access-event';

/** Base of every agent error. */
export class WardenAgentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WardenAgentError';
  }
}

/** A configuration value is missing or invalid; the message names the variable and how to fix it. */
export class WardenConfigError extends WardenAgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WardenConfigError';
  }
}

/** The policy bundle could not be loaded. */
export class PolicyUnavailableError extends WardenAgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyUnavailableError';
  }
}

/**
 * Thrown (or emitted as the `error` of a request/socket, or set as the `cause` of fetch's TypeError)
 * when block mode stops an access before any byte is sent.
 */
export class AccessDeniedByPolicy extends WardenAgentError {
  readonly access: Access;
  readonly verdict: Verdict;
  readonly rule: string | null;
  readonly mode: Mode;
  readonly policyVersion: string | undefined;
  readonly code = 'WARDEN_ACCESS_DENIED';

  constructor(details: { access: Access; verdict: Verdict; rule: string | null; mode: Mode; policyVersion?: string; functionName: string }) {
    const what = describeAccess(details.access);
    const why = details.verdict === 'unlisted'
      ? 'it is not on the allow list'
      : details.rule ? `deny rule "${details.rule}" matches` : 'the policy denies it';
    super(`Warden blocked ${what} from function "${details.functionName}": ${why} (mode ${details.mode}, policy ${details.policyVersion ?? 'unavailable'}). ` +
      'Add an allow entry to the rules repo (or set WARDEN_MODE=monitor) if this access is expected.');
    this.name = 'AccessDeniedByPolicy';
    this.access = details.access;
    this.verdict = details.verdict;
    this.rule = details.rule;
    this.mode = details.mode;
    this.policyVersion = details.policyVersion;
  }
}

export function describeAccess(a: Access): string {
  if (a.kind === 'aws') return `${a.service}:${a.action}${a.resource ? ` on ${a.resource}` : ''}`;
  return `${a.kind} ${a.host ?? a.address}${a.port !== undefined ? `:${a.port}` : ''}`;
}
