import { z } from 'zod';
import type { Clock } from '../common/clock';
import type { ApproversConfig } from '../slack/approvers';
import { approvalChannelFor, approversFor, exceptionTtlFor } from '../slack/approvers';
import type { AuditPort } from '../slack/audit-port';
import { CallbackStore, callbackIdFor, lockIdFor, type CallbackItem } from '../slack/callback-store';
import type { Access } from '../../engine/events/access-event';
import { CallbackResultSchema, parseDecision, parseTaskInput } from '../slack/decision-input';
import { TaskInputError } from '../slack/errors';
import { approvalClosedMessage, approvalRequestMessage } from '../slack/messages';
import type { SlackPort } from '../slack/slack-port';
import { allowEntryFor, type ExceptionRecord, type ExceptionStorePort } from './exception-store';

/**
 * The approval workflow's task handlers: pure-ish `(input, deps) => output`. The state machine
 * (approval.workflow.ts) calls one Lambda whose WARDEN_TASK is `approval.tasks`; the payload's
 * `task` picks the handler.
 */
export interface ApprovalTaskDeps {
  store: CallbackStore;
  slack: SlackPort;
  exceptions: ExceptionStorePort;
  approvers: ApproversConfig;
  audit: AuditPort;
  clock: Clock;
}

const Base = { decision: z.unknown() };
const FollowUp = z.enum(['quarantine', 'escalate', 'none']);

export const ClaimInputSchema = z.object({
  task: z.literal('claim'),
  ...Base,
  executionId: z.string().min(1),
  /** how long the claim holds while the request is open (the wait's TimeoutSeconds) */
  holdSeconds: z.number().int().positive(),
});
export const RequestInputSchema = z.object({
  task: z.literal('request'),
  ...Base,
  taskToken: z.string().min(1),
  executionId: z.string().min(1),
  stateName: z.string().min(1),
  /** HeartbeatSeconds and TimeoutSeconds of the wait, as the state machine has them */
  heartbeatSeconds: z.number().int().positive(),
  timeoutSeconds: z.number().int().positive(),
  /** what a timeout leads to, in words for the message */
  onTimeout: z.string().max(200),
});
export const ApprovedInputSchema = z.object({ task: z.literal('approved'), ...Base, executionId: z.string().min(1), approval: CallbackResultSchema });
export const DeniedInputSchema = z.object({ task: z.literal('denied'), ...Base, executionId: z.string().min(1), approval: CallbackResultSchema, then: FollowUp });
export const ExpiredInputSchema = z.object({
  task: z.literal('expired'),
  ...Base,
  executionId: z.string().min(1),
  stateName: z.string().min(1),
  wait: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).passthrough().optional(),
  then: z.enum(['deny', 'quarantine', 'escalate', 'none']),
  onDeny: FollowUp,
});
export const FailedInputSchema = z.object({ task: z.literal('failed'), ...Base, executionId: z.string().min(1), stage: z.enum(['request', 'approval']).default('request'), error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).passthrough() });

function followUpText(then: string): string {
  switch (then) {
    case 'quarantine': return 'Quarantine of the function has been started.';
    case 'escalate': return 'The escalation tiers have been notified.';
    default: return 'No further action configured.';
  }
}

/** What an approval is about: the function and the exact access (what an exception would cover). */
export function approvalSubject(functionName: string, a: Access): string {
  return JSON.stringify([functionName, a.kind, a.service?.toLowerCase() ?? null, a.action?.toLowerCase() ?? null, a.resource ?? null, a.host?.toLowerCase().replace(/\.$/, '') ?? null, a.host ? null : (a.address ?? null), a.port ?? null]);
}

/**
 * One open request per function + access: repeats of the same access while a request is open,
 * approved (until the exception expires) or just closed (for approval.timeout) end as duplicates.
 */
export async function claimRequest(input: unknown, deps: ApprovalTaskDeps): Promise<{ duplicate: boolean; lockId: string; heldBy?: string; status?: string; until?: string }> {
  const i = parseTaskInput(ClaimInputSchema, input, 'approval.claim');
  const d = parseDecision(i.decision, 'approval.claim');
  const now = deps.clock.nowMs();
  const subject = approvalSubject(d.function.name, d.access);
  const lockId = lockIdFor('approval', subject);
  const r = await deps.store.claimLock(lockId, i.executionId, subject, now + i.holdSeconds * 1000, now);
  if (r.claimed) return { duplicate: false, lockId };
  const until = new Date(r.lock.until).toISOString();
  await deps.audit.record({ pk: `INC#${d.incidentId}`, type: 'approval.duplicate', functionName: d.function.name, decisionId: d.decisionId, heldBy: r.lock.holder, status: r.lock.status, until, at: new Date(now).toISOString() });
  return { duplicate: true, lockId, heldBy: r.lock.holder, status: r.lock.status, until };
}

async function settle(deps: ApprovalTaskDeps, d: ReturnType<typeof parseDecision>, executionId: string, status: 'approved' | 'denied' | 'expired', untilMs: number): Promise<void> {
  await deps.store.settleLock(lockIdFor('approval', approvalSubject(d.function.name, d.access)), executionId, status, untilMs);
}

/** Posts the request, stores the token under an opaque id; returns what the Lambda would (the state machine waits for the token). */
export async function requestApproval(input: unknown, deps: ApprovalTaskDeps): Promise<{ approvalId: string; posted: boolean; channel: string; ts: string }> {
  const i = parseTaskInput(RequestInputSchema, input, 'approval.request');
  const d = parseDecision(i.decision, 'approval.request');
  const now = deps.clock.nowMs();
  const approvalId = callbackIdFor('approval', i.executionId, i.stateName);
  const expiresAt = now + i.timeoutSeconds * 1000;
  const item: CallbackItem = {
    approvalId, kind: 'approval', status: 'pending', taskToken: i.taskToken,
    functionName: d.function.name, incidentId: d.incidentId, decisionId: d.decisionId,
    executionId: i.executionId, stateName: i.stateName, createdAt: new Date(now).toISOString(),
    expiresAt, heartbeatSeconds: i.heartbeatSeconds, messages: [], ttl: CallbackStore.ttlFor(expiresAt),
  };
  const created = await deps.store.createPending(item);
  if (!created.created && created.existing.messages.length > 0) {
    // a retried task: the message is already in Slack and now points at the new token
    const m = created.existing.messages[0]!;
    return { approvalId, posted: false, channel: m.channel, ts: m.ts };
  }
  const channel = approvalChannelFor(deps.approvers, d.function.name);
  const approvers = approversFor(deps.approvers, d.function.name);
  const ref = await deps.slack.postMessage(channel, approvalRequestMessage(d, {
    approvalId, approvers, timeoutSeconds: i.heartbeatSeconds, maxWaitSeconds: i.timeoutSeconds,
    onTimeout: i.onTimeout, exceptionTtlSeconds: exceptionTtlFor(deps.approvers, d.function.name),
  }));
  await deps.store.attachMessages(approvalId, [ref]);
  await deps.audit.record({ pk: `INC#${d.incidentId}`, type: 'approval.requested', approvalId, functionName: d.function.name, channel: ref.channel, ts: ref.ts, approvers, executionId: i.executionId, at: item.createdAt });
  return { approvalId, posted: true, channel: ref.channel, ts: ref.ts };
}

async function updateMessages(deps: ApprovalTaskDeps, approvalId: string, build: () => ReturnType<typeof approvalClosedMessage>): Promise<void> {
  const item = await deps.store.get(approvalId);
  for (const ref of item?.messages ?? []) await deps.slack.updateMessage(ref, build());
}

/** Approve: the time-bound exception (exact access, expiry), the message updated with who and when. */
export async function recordApproval(input: unknown, deps: ApprovalTaskDeps): Promise<{ exceptionId: string; expiresAt: string; created: boolean }> {
  const i = parseTaskInput(ApprovedInputSchema, input, 'approval.approved');
  const d = parseDecision(i.decision, 'approval.approved');
  if (i.approval.outcome !== 'approved') throw new TaskInputError(`approval.approved called with outcome ${i.approval.outcome}`);
  const decidedAtMs = Date.parse(i.approval.decidedAt);
  if (!Number.isFinite(decidedAtMs)) throw new TaskInputError(`approval.decidedAt is not a time: ${i.approval.decidedAt}`);
  const exceptionId = `exc_${i.approval.approvalId.slice(4)}`;
  const expiresAtMs = decidedAtMs + exceptionTtlFor(deps.approvers, d.function.name) * 1000;
  const record: ExceptionRecord = {
    functionName: d.function.name,
    exceptionId,
    access: d.access,
    entry: allowEntryFor(d.access, `approved:${exceptionId}`),
    expiresAt: new Date(expiresAtMs).toISOString(),
    expiresAtMs,
    grantedBy: i.approval.decidedBy,
    approvalId: i.approval.approvalId,
    incidentId: d.incidentId,
    decisionId: d.decisionId,
    rule: d.rule,
    policyVersion: d.policyVersion,
    createdAt: new Date(deps.clock.nowMs()).toISOString(),
    ttl: Math.floor(expiresAtMs / 1000) + 86400,
  };
  const { created } = await deps.exceptions.grant(record);
  await settle(deps, d, i.executionId, 'approved', expiresAtMs);
  await deps.audit.record({ pk: `INC#${d.incidentId}`, type: 'approval.exception-granted', approvalId: i.approval.approvalId, exceptionId, functionName: d.function.name, entry: record.entry, expiresAt: record.expiresAt, grantedBy: record.grantedBy, at: record.createdAt });
  await updateMessages(deps, i.approval.approvalId, () => approvalClosedMessage(d, { outcome: 'approved', by: i.approval.decidedBy, at: i.approval.decidedAt, exceptionId, allowedUntil: record.expiresAt }));
  return { exceptionId, expiresAt: record.expiresAt, created };
}

export async function recordDenial(input: unknown, deps: ApprovalTaskDeps): Promise<{ approvalId: string; then: string }> {
  const i = parseTaskInput(DeniedInputSchema, input, 'approval.denied');
  const d = parseDecision(i.decision, 'approval.denied');
  await settle(deps, d, i.executionId, 'denied', deps.clock.nowMs() + deps.approvers.approval.timeout * 1000);
  await deps.audit.record({ pk: `INC#${d.incidentId}`, type: 'approval.denial-applied', approvalId: i.approval.approvalId, functionName: d.function.name, deniedBy: i.approval.decidedBy, then: i.then, at: new Date(deps.clock.nowMs()).toISOString() });
  await updateMessages(deps, i.approval.approvalId, () => approvalClosedMessage(d, { outcome: 'denied', by: i.approval.decidedBy, at: i.approval.decidedAt, then: followUpText(i.then) }));
  return { approvalId: i.approval.approvalId, then: i.then };
}

/** The wait timed out: the item is closed (late clicks get "expired"), the message says what happens next. */
export async function recordExpiry(input: unknown, deps: ApprovalTaskDeps): Promise<{ approvalId: string; outcome: 'expired'; then: string }> {
  const i = parseTaskInput(ExpiredInputSchema, input, 'approval.expired');
  const d = parseDecision(i.decision, 'approval.expired');
  const approvalId = callbackIdFor('approval', i.executionId, i.stateName);
  const at = new Date(deps.clock.nowMs()).toISOString();
  const before = await deps.store.expire(approvalId, at);
  await settle(deps, d, i.executionId, 'expired', deps.clock.nowMs() + deps.approvers.approval.timeout * 1000);
  const effective = i.then === 'deny' ? i.onDeny : i.then;
  await deps.audit.record({ pk: `INC#${d.incidentId}`, type: 'approval.expired', approvalId, functionName: d.function.name, error: i.wait?.Error ?? null, defaultAction: i.then, then: effective, lastHeartbeatBy: before?.lastHeartbeatBy ?? null, at });
  const then = `${i.then === 'deny' ? 'Treated as denied. ' : ''}${followUpText(effective)}`;
  for (const ref of before?.messages ?? []) await deps.slack.updateMessage(ref, approvalClosedMessage(d, { outcome: 'expired', at, then }));
  return { approvalId, outcome: 'expired', then: effective };
}

/** The request could not be made (Slack down, bad config): recorded before the execution fails. */
export async function recordFailure(input: unknown, deps: ApprovalTaskDeps): Promise<{ recorded: true }> {
  const i = parseTaskInput(FailedInputSchema, input, 'approval.failed');
  const d = parseDecision(i.decision, 'approval.failed');
  const at = new Date(deps.clock.nowMs()).toISOString();
  // nothing was granted: let the next occurrence ask again
  await settle(deps, d, i.executionId, 'expired', deps.clock.nowMs());
  await deps.audit.record({ pk: `INC#${d.incidentId}`, type: i.stage === 'approval' ? 'approval.grant-failed' : 'approval.failed', functionName: d.function.name, error: i.error.Error ?? null, cause: String(i.error.Cause ?? '').slice(0, 2000), at });
  if (i.stage === 'approval') {
    // the approver clicked Approve but no exception could be recorded: say so where they clicked
    const item = await deps.store.get(callbackIdFor('approval', i.executionId, 'RequestApproval'));
    const why = `The approval could not be recorded (${i.error.Error ?? 'error'}): nothing was allowed. Add a reviewed rule, or ask again.`;
    for (const ref of item?.messages ?? []) await deps.slack.updateMessage(ref, approvalClosedMessage(d, { outcome: 'expired', at, then: why })).catch(() => undefined);
  }
  return { recorded: true };
}

const HANDLERS = {
  claim: claimRequest,
  request: requestApproval,
  approved: recordApproval,
  denied: recordDenial,
  expired: recordExpiry,
  failed: recordFailure,
} as const;

/** WARDEN_TASK of the approval workflow's Lambda */
export const APPROVAL_TASK = 'approval.tasks';

/** The dispatcher the Lambda and the local runner call. */
export async function runApprovalTask(input: unknown, deps: ApprovalTaskDeps): Promise<unknown> {
  const task = (input as { task?: unknown } | null)?.task;
  const handler = typeof task === 'string' ? HANDLERS[task as keyof typeof HANDLERS] : undefined;
  if (!handler) throw new TaskInputError(`approval task "${String(task)}" is unknown; expected one of ${Object.keys(HANDLERS).join(', ')}`);
  return handler(input, deps);
}
