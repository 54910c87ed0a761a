/** Errors of `warden simulate`. Each says what is wrong and how to fix it. */
export class SimulateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SimulateError';
  }
}

/** A scenario file that cannot be read, parsed or validated; `issues` holds one line per mistake. */
export class ScenarioError extends SimulateError {
  readonly issues: string[];
  constructor(message: string, issues: string[] = [], options?: { cause?: unknown }) {
    super(issues.length ? `${message}\n${issues.map((i) => `  - ${i}`).join('\n')}` : message, options);
    this.name = 'ScenarioError';
    this.issues = issues;
  }
}

/** A piece of the pipeline the simulation needs is missing or failed to start. */
export class SimulationSetupError extends SimulateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SimulationSetupError';
  }
}
