import { z } from 'zod';
import { AccessSchema, FunctionIdentitySchema, ModeSchema, VerdictSchema } from './access-event';

/**
 * The decision: what `warden eval` prints per line and what the rules-engine Lambda publishes
 * as the detail of a "Policy Decision" event (source `warden.engine`). Public contract.
 */
export const DECISION_EVENT_SOURCE = 'warden.engine';
export const DECISION_EVENT_DETAIL_TYPE = 'Policy Decision';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

export const RESPONSES = ['none', 'approve', 'escalate', 'quarantine'] as const;
export const ResponseSchema = z.enum(RESPONSES);
export type ResponseAction = z.infer<typeof ResponseSchema>;

/** One line of `warden eval` output. `error` only for an input that could not be parsed/validated. */
export const DecisionSchema = z.object({
  id: z.string().nullable(),
  verdict: VerdictSchema,
  rule: z.string().nullable(),
  severity: SeveritySchema,
  response: ResponseSchema,
  policyVersion: z.string(),
  error: z.string().optional(),
});
export type Decision = z.infer<typeof DecisionSchema>;

/** Detail of a "Policy Decision" event: the decision plus the access it is about. */
export const DecisionEventDetailSchema = DecisionSchema.extend({
  /** id of the decision itself (ULID); `eventId` is the access event it decides. */
  decisionId: z.string(),
  eventId: z.string(),
  /** deterministic: the same function + rule + policy version share one incident, so workflows are idempotent. */
  incidentId: z.string(),
  time: z.string(),
  function: FunctionIdentitySchema,
  access: AccessSchema,
  mode: ModeSchema,
  blocked: z.boolean(),
  count: z.number().int().min(1),
  /** one human-readable sentence: why this verdict. */
  reason: z.string(),
});
export type DecisionEventDetail = z.infer<typeof DecisionEventDetailSchema>;
