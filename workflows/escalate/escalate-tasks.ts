import { z } from 'zod';
import type { Clock } from '../common/clock';
import type { AuditPort } from '../slack/audit-port';
import { CallbackStore, callbackIdFor, lockIdFor, type CallbackItem } from '../slack/callback-store';
import { CallbackResultSchema, parseDecision, parseTaskInput } from '../slack/decision-input';
import { TaskInputError } from '../slack/errors';
import { describeAccess, escalationClosedMessage, escalationMessage } from '../slack/messages';
import type { MessageRef, SlackPort } from '../slack/slack-port';
import type { SnsPort } from '../slack/sns-port';

/**
 * The escalate workflow's task handlers (WARDEN_TASK `escalate.tasks`, dispatched on `task`):
 * notify a tier and store the ack token; record an acknowledgement; record that nobody answered.
 */
export interface EscalateTaskDeps {
  store: CallbackStore;
  slack: SlackPort;
  sns: SnsPort;
  audit: AuditPort;
  clock: Clock;
}

/** Nobody in a tier could be told: the state machine moves on to the next tier. */
export class NotifyError extends TaskInputError {
  constructor(message: string) {
    super(message);
    this.name = 'EscalationNotifyError';
  }
}

const WaitOutcome = z.object({ Error: z.string().optional(), Cause: z.string().optional() }).passthrough();

export const TierPayloadSchema = z.object({
  index: z.number().int().min(0),
  count: z.number().int().min(1),
  name: z.string().min(1),
  slackChannel: z.string().optional(),
  slackUsers: z.array(z.string()).default([]),
  snsTopicArn: z.string().optional(),
  ackTimeoutSeconds: z.number().int().positive(),
  maxWaitSeconds: z.number().int().positive(),
  attempt: z.number().int().min(1),
  attempts: z.number().int().min(1),
  cycle: z.number().int().min(1),
  cycles: z.number().int().min(1),
});
export type TierPayload = z.infer<typeof TierPayloadSchema>;

export const NotifyInputSchema = z.object({
  task: z.literal('notify'),
  decision: z.unknown(),
  taskToken: z.string().min(1),
  executionId: z.string().min(1),
  stateName: z.string().min(1),
  plan: z.string(),
  tier: TierPayloadSchema,
  allowedUsers: z.array(z.string()),
  finalAction: z.enum(['quarantine', 'repeat', 'none']),
  /** the wait this one follows (closed now: its messages say it was escalated) */
  previous: z.object({ stateName: z.string(), tier: z.string(), outcome: WaitOutcome.optional() }).optional(),
});
export const ClaimInputSchema = z.object({
  task: z.literal('claim'),
  decision: z.unknown(),
  executionId: z.string().min(1),
  /** the longest this escalation can run (sum of its waits) */
  holdSeconds: z.number().int().positive(),
});
export const AcknowledgedInputSchema = z.object({
  task: z.literal('acknowledged'),
  decision: z.unknown(),
  executionId: z.string().min(1),
  quietSeconds: z.number().int().min(0),
  ack: CallbackResultSchema,
});
export const ExhaustedInputSchema = z.object({
  task: z.literal('exhausted'),
  decision: z.unknown(),
  executionId: z.string().min(1),
  previous: z.object({ stateName: z.string(), tier: z.string(), outcome: WaitOutcome.optional() }),
  finalAction: z.enum(['quarantine', 'repeat', 'none']),
  plan: z.string(),
  quietSeconds: z.number().int().min(0),
});

function finalActionText(a: string): string {
  return a === 'quarantine' ? 'quarantine the function' : a === 'repeat' ? 'give up after the last pass (recorded as unacknowledged)' : 'stop (recorded as unacknowledged)';
}

/** One escalation per incident: repeats while it runs, or within quietPeriod after it ended, end as duplicates. */
export async function claimEscalation(input: unknown, deps: EscalateTaskDeps): Promise<{ duplicate: boolean; heldBy?: string; status?: string; until?: string }> {
  const i = parseTaskInput(ClaimInputSchema, input, 'escalate.claim');
  const d = parseDecision(i.decision, 'escalate.claim');
  const now = deps.clock.nowMs();
  const r = await deps.store.claimLock(lockIdFor('escalation', d.incidentId), i.executionId, d.incidentId, now + i.holdSeconds * 1000, now);
  if (r.claimed) return { duplicate: false };
  const until = new Date(r.lock.until).toISOString();
  await deps.audit.record({ pk: `INC#${d.incidentId}`, type: 'escalation.duplicate', decisionId: d.decisionId, heldBy: r.lock.holder, status: r.lock.status, until, at: new Date(now).toISOString() });
  return { duplicate: true, heldBy: r.lock.holder, status: r.lock.status, until };
}

async function closePrevious(deps: EscalateTaskDeps, executionId: string, prev: { stateName: string; tier: string }, decision: ReturnType<typeof parseDecision>, next: string): Promise<CallbackItem | undefined> {
  const at = new Date(deps.clock.nowMs()).toISOString();
  const before = await deps.store.expire(callbackIdFor('ack', executionId, prev.stateName), at);
  // already acknowledged or closed by a retried task: leave its message alone
  if (before && before.status === 'pending') {
    for (const ref of before.messages) await deps.slack.updateMessage(ref, escalationClosedMessage(decision, { outcome: 'passed', at, tier: prev.tier, next }));
  }
  return before;
}

/** Notifies one tier (Slack with Acknowledge / Looking into it, SNS) and stores the ack token. */
export async function notifyTier(input: unknown, deps: EscalateTaskDeps): Promise<{ ackId: string; messages: MessageRef[]; sns: boolean; reused: boolean }> {
  const i = parseTaskInput(NotifyInputSchema, input, 'escalate.notify');
  const d = parseDecision(i.decision, 'escalate.notify');
  const t = i.tier;
  const now = deps.clock.nowMs();
  const at = new Date(now).toISOString();
  const pk = `INC#${d.incidentId}`;
  if (i.previous) {
    const why = i.previous.outcome?.Error ?? 'no acknowledgement';
    await closePrevious(deps, i.executionId, i.previous, d, `Escalated to ${t.name}${t.attempts > 1 ? ` (notice ${t.attempt} of ${t.attempts})` : ''}.`);
    await deps.audit.record({ pk, type: 'escalation.tier-passed', tier: i.previous.tier, reason: why, cause: String(i.previous.outcome?.Cause ?? '').slice(0, 500), next: t.name, at });
  }
  const ackId = callbackIdFor('ack', i.executionId, i.stateName);
  const expiresAt = now + t.maxWaitSeconds * 1000;
  const created = await deps.store.createPending({
    approvalId: ackId, kind: 'ack', status: 'pending', taskToken: i.taskToken,
    functionName: d.function.name, incidentId: d.incidentId, decisionId: d.decisionId,
    executionId: i.executionId, stateName: i.stateName, createdAt: at, expiresAt,
    heartbeatSeconds: t.ackTimeoutSeconds, messages: [], allowedUsers: i.allowedUsers, tier: t.name,
    ttl: CallbackStore.ttlFor(expiresAt),
  });
  if (!created.created && created.existing.messages.length > 0) return { ackId, messages: created.existing.messages, sns: false, reused: true };

  const message = escalationMessage(d, {
    ackId, tier: t.name, tierIndex: t.index, tierCount: t.count, attempt: t.attempt, attempts: t.attempts,
    ackTimeoutSeconds: t.ackTimeoutSeconds, mention: t.slackUsers, finalAction: finalActionText(i.finalAction),
  });
  const messages: MessageRef[] = [];
  const errors: string[] = [];
  // a channel gets one message that mentions the tier's people; without a channel each person gets a DM
  const targets = t.slackChannel ? [t.slackChannel] : t.slackUsers;
  for (const target of targets) {
    try {
      messages.push(await deps.slack.postMessage(target, message));
    } catch (err) {
      errors.push(`${target}: ${(err as Error).message}`);
    }
  }
  let sns = false;
  if (t.snsTopicArn) {
    try {
      await deps.sns.publish(t.snsTopicArn, `[Warden] ${d.severity.toUpperCase()} ${d.function.name}: ${describeAccess(d.access)}`.slice(0, 100), [
        `Warden escalation, tier ${t.index + 1} of ${t.count} (${t.name}).`,
        `Function: ${d.function.name}`,
        `Access: ${describeAccess(d.access)}`,
        `Verdict: ${d.verdict} (${d.severity}), rule: ${d.rule ?? 'none (not on the allow list)'}`,
        `Why: ${d.reason}`,
        `Incident: ${d.incidentId}   Decision: ${d.decisionId}   Policy: ${d.policyVersion}`,
        `Acknowledge in Slack within ${Math.round(t.ackTimeoutSeconds / 60)} min, or the next tier is notified.`,
      ].join('\n'));
      sns = true;
    } catch (err) {
      errors.push(`sns ${t.snsTopicArn}: ${(err as Error).message}`);
    }
  }
  if (messages.length > 0) await deps.store.attachMessages(ackId, messages);
  await deps.audit.record({ pk, type: 'escalation.notified', ackId, tier: t.name, tierIndex: t.index, attempt: t.attempt, cycle: t.cycle, slack: messages, sns, errors, at });
  // nobody could be told: fail, so the state machine moves on to the next tier instead of waiting on silence
  if (messages.length === 0 && !sns) throw new NotifyError(`tier ${t.name}: no notification could be delivered (${errors.join('; ') || 'no targets'})`);
  return { ackId, messages, sns, reused: false };
}

export async function recordAcknowledgement(input: unknown, deps: EscalateTaskDeps): Promise<{ acknowledgedBy: string; at: string; tier: string | null }> {
  const i = parseTaskInput(AcknowledgedInputSchema, input, 'escalate.acknowledged');
  const d = parseDecision(i.decision, 'escalate.acknowledged');
  if (i.ack.outcome !== 'acknowledged') throw new TaskInputError(`escalate.acknowledged called with outcome ${i.ack.outcome}`);
  const item = await deps.store.get(i.ack.approvalId);
  const tier = item?.tier ?? null;
  await deps.store.settleLock(lockIdFor('escalation', d.incidentId), i.executionId, 'acknowledged', deps.clock.nowMs() + i.quietSeconds * 1000);
  for (const ref of item?.messages ?? []) await deps.slack.updateMessage(ref, escalationClosedMessage(d, { outcome: 'acknowledged', by: i.ack.decidedBy, at: i.ack.decidedAt, tier: tier ?? '?' }));
  await deps.audit.record({ pk: `INC#${d.incidentId}`, type: 'escalation.acknowledged', ackId: i.ack.approvalId, by: i.ack.decidedBy, tier, functionName: d.function.name, at: i.ack.decidedAt });
  return { acknowledgedBy: i.ack.decidedBy, at: i.ack.decidedAt, tier };
}

export async function recordExhausted(input: unknown, deps: EscalateTaskDeps): Promise<{ finalAction: string }> {
  const i = parseTaskInput(ExhaustedInputSchema, input, 'escalate.exhausted');
  const d = parseDecision(i.decision, 'escalate.exhausted');
  const next = i.finalAction === 'quarantine' ? 'Nobody acknowledged: quarantine of the function has been started.' : 'Nobody acknowledged any tier: recorded as unacknowledged.';
  await closePrevious(deps, i.executionId, i.previous, d, next);
  await deps.store.settleLock(lockIdFor('escalation', d.incidentId), i.executionId, 'unacknowledged', deps.clock.nowMs() + i.quietSeconds * 1000);
  await deps.audit.record({ pk: `INC#${d.incidentId}`, type: 'escalation.unacknowledged', lastTier: i.previous.tier, finalAction: i.finalAction, plan: i.plan, functionName: d.function.name, at: new Date(deps.clock.nowMs()).toISOString() });
  return { finalAction: i.finalAction };
}

const HANDLERS = { claim: claimEscalation, notify: notifyTier, acknowledged: recordAcknowledgement, exhausted: recordExhausted } as const;

export const ESCALATE_TASK = 'escalate.tasks';

export async function runEscalateTask(input: unknown, deps: EscalateTaskDeps): Promise<unknown> {
  const task = (input as { task?: unknown } | null)?.task;
  const handler = typeof task === 'string' ? HANDLERS[task as keyof typeof HANDLERS] : undefined;
  if (!handler) throw new TaskInputError(`escalate task "${String(task)}" is unknown; expected one of ${Object.keys(HANDLERS).join(', ')}`);
  return handler(input, deps);
}
