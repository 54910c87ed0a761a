import type { Decision, DecisionEventDetail } from '../events/decision-event';
import type { Evaluation } from '../evaluate/evaluate';
import { findException, type ExceptionSource } from './exceptions';
import { EngineHandlerError } from './errors';
import type { DecisionPublisher } from './publisher';

/**
 * The rules engine's core, shared by the Lambda (engine/handler/lambda.ts) and the local
 * simulation: decide each access event, honour time-bound exceptions, audit every decision, then
 * publish them as `Policy Decision` events. Everything it touches is a port in `deps`.
 */

/**
 * Decides one raw access event (the `detail` of an "Access Observed" event): engine/evaluate's
 * evaluateEvent bound to the loaded policy. Fails closed: a bad event is a deny with `error` and
 * no `detail` (there is no function or access to act on).
 */
export type Evaluate = (rawAccessEvent: unknown, now: number) => Promise<Evaluation> | Evaluation;

export interface AuditSink {
  recordDecision(decision: DecisionEventDetail): Promise<void>;
  /** an event that could not be parsed: audited with the error and the raw input (clipped) */
  recordInvalid(decision: Decision, raw: unknown, time: string): Promise<void>;
}

export interface EngineLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface EngineMetrics {
  count(name: string, value?: number): void;
}

export interface EngineDeps {
  evaluate: Evaluate;
  exceptions: ExceptionSource;
  audit: AuditSink;
  publisher: DecisionPublisher;
  /** epoch ms; injected (a simulated clock locally) */
  now: () => number;
  log?: EngineLogger;
  metrics?: EngineMetrics;
}

export interface EngineResult {
  /** the decisions published (one per valid event) */
  decisions: DecisionEventDetail[];
  /** events that could not be parsed: decided deny with an error, audited, not published */
  invalid: Decision[];
  counts: Record<'allow' | 'deny' | 'unlisted' | 'invalid' | 'excepted', number>;
}

const silentLog: EngineLogger = { info() {}, warn() {}, error() {} };

/**
 * Applies an active exception to an `unlisted` decision: the approved access becomes `allow`
 * (response `none`). Never touches `deny`. If exceptions cannot be read, the decision stays as
 * the policy made it (fail closed) and the failure is logged and counted.
 */
async function applyException(d: DecisionEventDetail, deps: EngineDeps, now: number): Promise<{ decision: DecisionEventDetail; excepted: boolean }> {
  if (d.verdict !== 'unlisted' || d.error) return { decision: d, excepted: false };
  let records;
  try {
    records = await deps.exceptions.forFunction(d.function.name);
  } catch (err) {
    (deps.log ?? silentLog).error('exceptions table unreadable; deciding without exceptions (fail closed)', { function: d.function.name, error: String(err) });
    deps.metrics?.count('ExceptionLookupFailed');
    return { decision: d, excepted: false };
  }
  const ex = findException(records, d.access, now);
  if (!ex) return { decision: d, excepted: false };
  return {
    excepted: true,
    decision: {
      ...d,
      verdict: 'allow',
      rule: `exception:${ex.exceptionId}`,
      severity: 'info',
      response: 'none',
      reason: `allowed by time-bound exception ${ex.exceptionId}${ex.grantedBy ? ` granted by ${ex.grantedBy}` : ''} until ${ex.expiresAt}; without it: ${d.reason}`,
    },
  };
}

export async function processAccessEvents(rawEvents: unknown[], deps: EngineDeps): Promise<EngineResult> {
  const log = deps.log ?? silentLog;
  const counts: EngineResult['counts'] = { allow: 0, deny: 0, unlisted: 0, invalid: 0, excepted: 0 };
  const decisions: DecisionEventDetail[] = [];
  const invalid: { decision: Decision; raw: unknown; time: string }[] = [];
  for (const raw of rawEvents) {
    const now = deps.now();
    let evaluation: Evaluation;
    try {
      evaluation = await deps.evaluate(raw, now);
    } catch (err) {
      // evaluate is meant never to throw; if it does, fail the invocation so it is retried, then parked in the DLQ
      throw new EngineHandlerError(`evaluating an access event threw (${(err as Error)?.message ?? String(err)}); the event will be retried`, { cause: err });
    }
    if (!evaluation.detail) {
      counts.invalid++;
      counts[evaluation.decision.verdict]++;
      log.warn('invalid access event decided deny', { id: evaluation.decision.id, error: evaluation.decision.error });
      invalid.push({ decision: evaluation.decision, raw, time: new Date(now).toISOString() });
      continue;
    }
    const { decision, excepted } = await applyException(evaluation.detail, deps, now);
    if (excepted) counts.excepted++;
    counts[decision.verdict]++;
    decisions.push(decision);
  }
  // audit first: a decision that was published must be in the audit trail
  for (const x of invalid) await deps.audit.recordInvalid(x.decision, x.raw, x.time);
  for (const d of decisions) await deps.audit.recordDecision(d);
  await deps.publisher.publish(decisions);
  for (const [k, v] of Object.entries(counts)) if (v > 0) deps.metrics?.count(`Decisions_${k}`, v);
  log.info('decided access events', { count: decisions.length, ...counts });
  return { decisions, invalid: invalid.map((x) => x.decision), counts };
}
