import type { Access, FunctionIdentity, Mode, Verdict } from '../events/access-event';
import type { ResponseAction, Severity } from '../events/decision-event';

/**
 * The contract between the policy core and its users (agent, engine handler, CLI, learn/diff).
 * Implemented in engine/policy; nothing outside engine/policy depends on how it is indexed.
 */
export interface ListVerdict {
  verdict: Verdict;
  /** id of the deciding entry; null for unlisted and for allow-by-default (deny-list-only policy). */
  rule: string | null;
  severity: Severity;
}

export interface CompiledPolicy {
  /** content hash of the compiled policy (`sha256:` + hex prefix). */
  readonly policyVersion: string;
  /** the mode the rules repo sets for this function (`monitor` when unset). */
  modeFor(functionName: string): Mode;
  /** pure, synchronous, never throws: an internal failure decides deny. `now` is epoch ms (expiry). */
  decide(fn: Pick<FunctionIdentity, 'name'>, access: Access, now: number): ListVerdict;
}

export interface ResponseFacts {
  verdict: Verdict;
  severity: Severity;
  service: string | null;
  action: string | null;
  functionName: string;
  tags: Record<string, string>;
  mode: Mode;
}

export interface ResponseSelector {
  select(facts: ResponseFacts): Promise<ResponseAction>;
}
