import { z } from 'zod';
import { DecisionEventDetailSchema, type DecisionEventDetail } from '../../engine/events/decision-event';
import { TaskInputError } from './errors';

/**
 * The decision a workflow acts on. A state machine may be started with the EventBridge event
 * ("Policy Decision", the decision in `detail`) or with the detail itself; the definitions
 * normalize to `$.decision` first and pass that to every task.
 */
export function parseDecision(value: unknown, where: string): DecisionEventDetail {
  const r = DecisionEventDetailSchema.safeParse(value);
  if (!r.success) {
    throw new TaskInputError(`${where}: the decision is not a valid "Policy Decision" detail: ${r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

/** Parse a task payload with its schema; the error names the task and every bad field. */
export function parseTaskInput<S extends z.ZodType>(schema: S, value: unknown, task: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new TaskInputError(`task ${task}: bad input from the state machine: ${r.error.issues.slice(0, 8).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

/** What a callback wait's SendTaskSuccess carries (written by the interactivity endpoint). */
export const CallbackResultSchema = z.object({
  approvalId: z.string(),
  outcome: z.enum(['approved', 'denied', 'acknowledged']),
  decidedBy: z.string(),
  decidedAt: z.string(),
});
export type CallbackResult = z.infer<typeof CallbackResultSchema>;
