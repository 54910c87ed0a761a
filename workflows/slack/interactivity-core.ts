import { z } from 'zod';
import type { Clock } from '../common/clock';
import type { ApproversConfig } from './approvers';
import { isApprover } from './approvers';
import type { AuditPort } from './audit-port';
import { CALLBACK_ID_RE, type CallbackItem, type CallbackStore, type DecidedStatus } from './callback-store';
import { SignatureError } from './errors';
import { ACTIONS, type ActionId } from './messages';
import type { SlackSecretsPort } from './secrets';
import { rawBodyOf, verifySlackSignature } from './signature';
import { ephemeral, type EphemeralReply, type SlackPort } from './slack-port';
import { TaskGoneError, type TaskCallbackPort } from './task-callback';

/**
 * The core of the Slack interactivity endpoint (handler: interactivity.ts, a Lambda behind an HTTP
 * API, payload format 2.0). Every button
 * Warden posts lands here. The order matters: signature → payload → authorization → state.
 * Answers are always HTTP 200 with an ephemeral message once the request is genuine, so a late or
 * repeated click never turns into an error loop; only forged or malformed requests get 4xx.
 */

/** The part of an API Gateway HTTP API (v2) event the endpoint reads. */
export const HttpApiEventSchema = z.object({
  headers: z.record(z.string(), z.string().optional()).default({}),
  body: z.string().nullable().optional(),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.object({ requestId: z.string().optional(), http: z.object({ method: z.string() }).optional() }).optional(),
});
export type HttpApiEvent = z.input<typeof HttpApiEventSchema>;

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** A Slack `block_actions` payload: only the fields Warden reads, Slack may add others. */
export const BlockActionsPayloadSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1).max(64), username: z.string().max(256).optional(), name: z.string().max(256).optional() }),
  team: z.object({ id: z.string().max(64) }).nullable().optional(),
  api_app_id: z.string().max(64).optional(),
  response_url: z.string().max(2048).optional(),
  container: z.object({ channel_id: z.string().max(64).optional(), message_ts: z.string().max(64).optional() }).passthrough().optional(),
  actions: z.array(z.object({ action_id: z.string().max(255), value: z.string().max(2000).optional(), block_id: z.string().max(255).optional() })).min(1),
});
export type BlockActionsPayload = z.infer<typeof BlockActionsPayloadSchema>;

export type InteractionOutcome =
  | { kind: 'rejected'; status: 400 | 401 | 405; reason: string }
  | { kind: 'ignored'; reason: string }
  | { kind: 'unknown'; approvalId: string }
  | { kind: 'unauthorized'; approvalId: string; user: string }
  | { kind: 'closed'; approvalId: string; status: CallbackItem['status']; user: string }
  | { kind: 'expired'; approvalId: string; user: string }
  | { kind: 'decided'; approvalId: string; status: DecidedStatus; user: string }
  | { kind: 'heartbeat'; approvalId: string; user: string }
  | { kind: 'retry'; approvalId: string; user: string; error: string };

export interface InteractivityDeps {
  secrets: SlackSecretsPort;
  store: CallbackStore;
  callbacks: TaskCallbackPort;
  slack: Pick<SlackPort, 'respond'>;
  approvers: ApproversConfig;
  audit: AuditPort;
  clock: Clock;
  /** structured log line (never secrets, never tokens) */
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

/** What the button value must point at, and what the click does. */
const ACTION_SPECS: Record<ActionId, { kind: CallbackItem['kind']; effect: DecidedStatus | 'heartbeat' }> = {
  [ACTIONS.approve]: { kind: 'approval', effect: 'approved' },
  [ACTIONS.deny]: { kind: 'approval', effect: 'denied' },
  [ACTIONS.review]: { kind: 'approval', effect: 'heartbeat' },
  [ACTIONS.ack]: { kind: 'ack', effect: 'acknowledged' },
  [ACTIONS.looking]: { kind: 'ack', effect: 'heartbeat' },
};

function json(statusCode: number, body: unknown): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}
function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  const direct = headers[name];
  if (direct !== undefined) return direct;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}
function closedText(item: CallbackItem): string {
  const what = item.kind === 'approval' ? 'This approval request' : 'This escalation';
  switch (item.status) {
    case 'approved': return `${what} was already decided: approved by <@${item.decidedBy}> at ${item.decidedAt}. Nothing changed.`;
    case 'denied': return `${what} was already decided: denied by <@${item.decidedBy}> at ${item.decidedAt}. Nothing changed.`;
    case 'acknowledged': return `${what} was already acknowledged by <@${item.decidedBy}> at ${item.decidedAt}. Nothing changed.`;
    default: return `${what} has expired${item.expiredAt ? ` (${item.expiredAt})` : ''}: it is already decided or expired, and the configured default action applied. Nothing changed.`;
  }
}

export async function handleInteraction(rawEvent: unknown, deps: InteractivityDeps): Promise<{ response: HttpResponse; outcome: InteractionOutcome }> {
  const log = deps.log ?? (() => undefined);
  const parsedEvent = HttpApiEventSchema.safeParse(rawEvent);
  if (!parsedEvent.success) return { response: json(400, { error: 'bad request' }), outcome: { kind: 'rejected', status: 400, reason: 'not an HTTP API event' } };
  const event = parsedEvent.data;
  const method = event.requestContext?.http?.method;
  if (method !== undefined && method.toUpperCase() !== 'POST') {
    return { response: json(405, { error: 'POST only' }), outcome: { kind: 'rejected', status: 405, reason: `method ${method}` } };
  }

  // 1. signature over the raw bytes, before anything in the body is looked at
  const raw = rawBodyOf(event);
  const signed = { rawBody: raw, timestamp: header(event.headers, 'x-slack-request-timestamp'), signature: header(event.headers, 'x-slack-signature') };
  const now = deps.clock.nowMs();
  try {
    try {
      verifySlackSignature(signed, (await deps.secrets.get()).signingSecrets, now);
    } catch (err) {
      // a mismatch may be a rotated secret: re-read once (rate-limited by the port) and retry
      if (!(err instanceof SignatureError) || err.reason !== 'mismatch') throw err;
      verifySlackSignature(signed, (await deps.secrets.get({ forceRefresh: true })).signingSecrets, now);
    }
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    log('warn', 'slack request refused: bad signature', { reason: err.reason, detail: err.message, retryNum: header(event.headers, 'x-slack-retry-num') });
    return { response: json(401, { error: 'invalid request signature' }), outcome: { kind: 'rejected', status: 401, reason: err.reason } };
  }

  // 2. the payload
  let payload: BlockActionsPayload;
  try {
    const form = new URLSearchParams(raw.toString('utf8'));
    const text = form.get('payload');
    if (text === null) throw new Error('no "payload" form field');
    const candidate: unknown = JSON.parse(text);
    if (typeof candidate === 'object' && candidate !== null && (candidate as { type?: unknown }).type !== 'block_actions') {
      return { response: json(200, {}), outcome: { kind: 'ignored', reason: `payload type ${String((candidate as { type?: unknown }).type).slice(0, 40)}` } };
    }
    payload = BlockActionsPayloadSchema.parse(candidate);
  } catch (err) {
    log('warn', 'slack request refused: malformed payload', { detail: (err as Error).message.slice(0, 300) });
    return { response: json(400, { error: 'malformed interaction payload' }), outcome: { kind: 'rejected', status: 400, reason: 'malformed payload' } };
  }

  const action = payload.actions[0]!;
  const userId = payload.user.id;
  const reply = async (r: EphemeralReply, outcome: InteractionOutcome) => {
    if (payload.response_url) {
      try {
        await deps.slack.respond(payload.response_url, r);
      } catch (err) {
        log('warn', 'could not deliver the ephemeral reply', { detail: (err as Error).message });
      }
    }
    return { response: json(200, r), outcome };
  };

  const spec = ACTION_SPECS[action.action_id as ActionId] as (typeof ACTION_SPECS)[ActionId] | undefined;
  const approvalId = action.value ?? '';
  if (!spec || !CALLBACK_ID_RE.test(approvalId)) {
    return reply(ephemeral('This button is not one of Warden\'s, or it is malformed. Nothing changed.'), { kind: 'ignored', reason: `action ${action.action_id.slice(0, 60)}` });
  }

  // 3. the item, then who clicked
  const item = await deps.store.get(approvalId);
  if (!item || item.kind !== spec.kind) {
    return reply(ephemeral('This request is unknown or has expired (already decided or expired). Nothing changed.'), { kind: 'unknown', approvalId });
  }
  const pk = `INC#${item.incidentId}`;
  const at = new Date(now).toISOString();
  const authorized = item.kind === 'approval'
    ? isApprover(deps.approvers, item.functionName, userId)
    : (item.allowedUsers ?? []).includes(userId) || isApprover(deps.approvers, item.functionName, userId);
  if (!authorized) {
    await deps.audit.record({ pk, type: 'slack.unauthorized-click', approvalId, kind: item.kind, action: action.action_id, user: userId, functionName: item.functionName, at });
    log('warn', 'unauthorized click refused', { approvalId, user: userId, functionName: item.functionName });
    const who = item.kind === 'approval' ? 'approve or deny accesses of' : 'acknowledge escalations for';
    return reply(ephemeral(`You are not allowed to ${who} \`${item.functionName}\` (see rules/${item.kind === 'approval' ? 'approvers' : 'escalation'}.yaml). Nothing changed; this attempt was recorded.`), { kind: 'unauthorized', approvalId, user: userId });
  }
  if (item.status !== 'pending' || item.expiresAt <= now) {
    return reply(ephemeral(closedText(item.status === 'pending' ? { ...item, status: 'expired' } : item)), { kind: 'closed', approvalId, status: item.status, user: userId });
  }

  // 4a. "Still reviewing" / "Looking into it": a heartbeat restarts the waiting window
  if (spec.effect === 'heartbeat') {
    const token = await deps.store.heartbeat(approvalId, userId, at, now);
    if (!token) {
      const again = await deps.store.get(approvalId);
      return reply(ephemeral(again ? closedText(again) : 'This request has expired. Nothing changed.'), { kind: 'closed', approvalId, status: again?.status ?? 'expired', user: userId });
    }
    try {
      await deps.callbacks.sendTaskHeartbeat(token);
    } catch (err) {
      if (!(err instanceof TaskGoneError)) {
        log('error', 'SendTaskHeartbeat failed', { approvalId, detail: (err as Error).message });
        return reply(ephemeral('Warden could not record that just now. Please click again in a moment.'), { kind: 'retry', approvalId, user: userId, error: (err as Error).message });
      }
      await deps.store.expire(approvalId, at);
      return reply(ephemeral('This request has already expired: the default action applied. Nothing changed.'), { kind: 'expired', approvalId, user: userId });
    }
    await deps.audit.record({ pk, type: `${item.kind}.heartbeat`, approvalId, user: userId, functionName: item.functionName, at });
    const windowText = `${Math.round(item.heartbeatSeconds / 60)} min`;
    return reply(ephemeral(`Noted: you are on it. The clock restarts: ${windowText} more before the next step (hard limit ${new Date(item.expiresAt).toISOString()}).`), { kind: 'heartbeat', approvalId, user: userId });
  }

  // 4b. a decision: conditional update first, so only one click ever wins
  const status = spec.effect;
  const before = await deps.store.decide(approvalId, status, userId, at, now);
  if (!before) {
    const again = await deps.store.get(approvalId);
    return reply(ephemeral(again ? closedText(again) : 'This request has expired. Nothing changed.'), { kind: 'closed', approvalId, status: again?.status ?? 'expired', user: userId });
  }
  const token = before.taskToken as string;
  try {
    await deps.callbacks.sendTaskSuccess(token, { approvalId, outcome: status, decidedBy: userId, decidedAt: at });
  } catch (err) {
    if (err instanceof TaskGoneError) {
      await deps.store.expire(approvalId, at);
      await deps.audit.record({ pk, type: `${item.kind}.late-click`, approvalId, action: action.action_id, user: userId, functionName: item.functionName, at });
      return reply(ephemeral('Too late: this request had already expired, and the default action applied. Your click changed nothing.'), { kind: 'expired', approvalId, user: userId });
    }
    // not delivered: put the item back so the click can be repeated, never a silent half-decision
    await deps.store.reopen(approvalId, token, userId);
    log('error', 'SendTaskSuccess failed; decision rolled back', { approvalId, detail: (err as Error).message });
    return reply(ephemeral('Warden could not record your decision just now. Nothing changed; please click again in a moment.'), { kind: 'retry', approvalId, user: userId, error: (err as Error).message });
  }
  await deps.audit.record({ pk, type: item.kind === 'approval' ? `approval.${status}` : 'escalation.ack-received', approvalId, user: userId, functionName: item.functionName, at, executionId: item.executionId });
  const words = status === 'approved' ? 'approved' : status === 'denied' ? 'denied' : 'acknowledged';
  return reply(ephemeral(`Recorded: you ${words} this ${item.kind === 'approval' ? 'request' : 'escalation'} for \`${item.functionName}\` at ${at}.`), { kind: 'decided', approvalId, status, user: userId });
}
