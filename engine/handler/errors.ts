/** Errors of the rules-engine handler. Each sets `name` and keeps the `cause`. */
export class EngineHandlerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineHandlerError';
  }
}

/** The Lambda environment is missing or malformed: a deployment problem, not a data problem. */
export class EngineConfigError extends EngineHandlerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineConfigError';
  }
}

/** Some decisions could not be published after retries; thrown so EventBridge/Lambda retry, then DLQ. */
export class PublishError extends EngineHandlerError {
  readonly failed: { decisionId: string; code: string; message: string }[];
  constructor(message: string, failed: { decisionId: string; code: string; message: string }[], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishError';
    this.failed = failed;
  }
}

/** The incoming Lambda event is not an EventBridge event Warden understands. */
export class EnvelopeError extends EngineHandlerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvelopeError';
  }
}
