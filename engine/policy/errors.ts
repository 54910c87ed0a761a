/** Errors of the policy core. Each class sets `name` and passes `cause`. */
export class PolicyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PolicyError';
  }
}

/** One problem in a rules file: where (file, 1-based line, key path like `allow[2].host`) and what. */
export interface RulesIssue {
  file: string;
  line: number;
  path: string;
  message: string;
}

export function formatIssue(i: RulesIssue, level: 'error' | 'warning' = 'error'): string {
  return `${i.file}:${i.line}: ${level}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

/** The rules repo could not be loaded; `issues` lists every problem found (not only the first). */
export class RulesLoadError extends PolicyError {
  readonly issues: RulesIssue[];
  constructor(issues: RulesIssue[], options?: { cause?: unknown }) {
    const head = issues.slice(0, 5).map((i) => formatIssue(i)).join('\n');
    const more = issues.length > 5 ? `\n… and ${issues.length - 5} more` : '';
    super(`the rules repo has ${issues.length} error${issues.length === 1 ? '' : 's'}:\n${head}${more}`, options);
    this.name = 'RulesLoadError';
    this.issues = issues;
  }
}

/** A bundle that is not a valid `warden.bundle/1` artifact (corrupt, edited, truncated or another format). */
export class BundleError extends PolicyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BundleError';
  }
}
