import type { Button, KnownBlock } from '@slack/web-api';
import type { Access } from '../../engine/events/access-event';
import type { DecisionEventDetail } from '../../engine/events/decision-event';
import type { SlackMessage } from './slack-port';

/** action_id of every Warden button; the button's value is the opaque callback id. */
export const ACTIONS = {
  approve: 'warden_approve',
  deny: 'warden_deny',
  review: 'warden_still_reviewing',
  ack: 'warden_acknowledge',
  looking: 'warden_looking_into_it',
} as const;
export type ActionId = (typeof ACTIONS)[keyof typeof ACTIONS];

/** Escapes text for mrkdwn: values come from events, and `<!channel>` or `<https://evil|bank>` must stay text. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
/** A value in a code span (backticks inside would end it). */
export function code(text: string): string {
  return `\`${esc(text).replace(/`/g, "'")}\``;
}
/** fallback text for notifications: no date tokens, no bold markers, no emoji codes */
function plain(mrkdwn: string): string {
  return mrkdwn.replace(/<!date\^\d+\^[^|]*\|([^>]*)>/g, '$1').replace(/\*/g, '').replace(/^:[a-z_]+: /, '');
}
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
function user(id: string): string {
  return /^[UW][A-Z0-9]+$/.test(id) ? `<@${id}>` : esc(id);
}
/** Slack renders the date in each reader's time zone; the ISO text is the fallback. */
export function slackDate(iso: string): string {
  const s = Math.floor(Date.parse(iso) / 1000);
  return Number.isFinite(s) ? `<!date^${s}^{date_short_pretty} {time_secs}|${iso}>` : esc(iso);
}
export function humanDuration(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** One line: what was accessed. */
export function describeAccess(a: Access): string {
  if (a.kind === 'aws') return `${a.service}:${a.action}${a.resource ? ` on ${a.resource}` : ''}`;
  const target = `${a.host ?? a.address ?? '?'}${a.port !== undefined ? `:${a.port}` : ''}`;
  return a.kind === 'http' ? `${a.method ? `${a.method} ` : ''}${target}` : `tcp ${target}`;
}

function factsSection(d: DecisionEventDetail): KnownBlock {
  const fields = [
    `*Function*\n${code(d.function.name)}${d.function.account ? ` (${esc(d.function.account)})` : ''}`,
    `*Access*\n${code(clip(describeAccess(d.access), 400))}`,
    `*Rule*\n${d.rule ? code(d.rule) : '_none: not on the allow list_'}`,
    `*Verdict*\n${esc(d.verdict)} · ${esc(d.severity)} · ${esc(d.mode)} mode${d.blocked ? ' · blocked' : ''}${d.count > 1 ? ` · ×${d.count}` : ''}`,
  ];
  return { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text: clip(text, 2000) })) };
}
function reasonAndIds(d: DecisionEventDetail): KnownBlock[] {
  return [
    { type: 'section', text: { type: 'mrkdwn', text: clip(esc(d.reason), 2900) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: clip(`incident ${code(d.incidentId)} · decision ${code(d.decisionId)} · policy ${code(d.policyVersion)} · ${slackDate(d.time)}`, 2900) }] },
  ];
}
function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: clip(text, 150), emoji: true } };
}
function button(text: string, actionId: ActionId, value: string, style?: 'primary' | 'danger'): Button {
  return { type: 'button', text: { type: 'plain_text', text, emoji: true }, action_id: actionId, value, ...(style ? { style } : {}) };
}

export interface ApprovalRequestView {
  approvalId: string;
  approvers: string[];
  /** seconds without a decision or "Still reviewing" before the timeout action */
  timeoutSeconds: number;
  maxWaitSeconds: number;
  /** what happens on timeout, in words ("deny, then escalate") */
  onTimeout: string;
  exceptionTtlSeconds: number;
}

export function approvalRequestMessage(d: DecisionEventDetail, v: ApprovalRequestView): SlackMessage {
  const title = `Approval needed: ${d.function.name} → ${describeAccess(d.access)}`;
  const deny = button('Deny', ACTIONS.deny, v.approvalId, 'danger');
  deny.confirm = {
    title: { type: 'plain_text', text: 'Deny this access?' },
    text: { type: 'mrkdwn', text: `Denying starts the configured response for ${code(d.function.name)}.` },
    confirm: { type: 'plain_text', text: 'Deny' },
    deny: { type: 'plain_text', text: 'Cancel' },
  };
  return {
    text: clip(`${esc(title)} (approvers: ${v.approvers.map(user).join(' ')})`, 3000),
    blocks: [
      header(title),
      factsSection(d),
      ...reasonAndIds(d),
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(`Approvers: ${v.approvers.map(user).join(' ') || '_none configured_'} · Approve allows exactly this access for ${humanDuration(v.exceptionTtlSeconds)} · no answer within ${humanDuration(v.timeoutSeconds)} → ${esc(v.onTimeout)} ("Still reviewing" restarts the clock, up to ${humanDuration(v.maxWaitSeconds)})`, 2900) }] },
      { type: 'actions', block_id: 'warden_approval', elements: [button('Approve', ACTIONS.approve, v.approvalId, 'primary'), deny, button('Still reviewing', ACTIONS.review, v.approvalId)] },
    ],
  };
}

export type ApprovalOutcomeView =
  | { outcome: 'approved'; by: string; at: string; exceptionId: string; allowedUntil: string }
  | { outcome: 'denied'; by: string; at: string; then: string }
  | { outcome: 'expired'; at: string; then: string };

export function approvalClosedMessage(d: DecisionEventDetail, v: ApprovalOutcomeView): SlackMessage {
  const what = `${d.function.name} → ${describeAccess(d.access)}`;
  let line: string;
  let title: string;
  if (v.outcome === 'approved') {
    title = `Approved: ${what}`;
    line = `:white_check_mark: *Approved* by ${user(v.by)} at ${slackDate(v.at)}. Allowed until ${slackDate(v.allowedUntil)} (exception ${code(v.exceptionId)}).`;
  } else if (v.outcome === 'denied') {
    title = `Denied: ${what}`;
    line = `:no_entry: *Denied* by ${user(v.by)} at ${slackDate(v.at)}. ${esc(v.then)}`;
  } else {
    title = `Expired: ${what}`;
    line = `:hourglass: *No decision* before ${slackDate(v.at)}. ${esc(v.then)}`;
  }
  return {
    text: clip(`${esc(title)}. ${plain(line)}`, 3000),
    blocks: [header(title), factsSection(d), ...reasonAndIds(d), { type: 'section', text: { type: 'mrkdwn', text: clip(line, 2900) } }],
  };
}

export interface EscalationView {
  ackId: string;
  tier: string;
  tierIndex: number;
  tierCount: number;
  /** 1-based notification number within the tier (repeats) */
  attempt: number;
  attempts: number;
  ackTimeoutSeconds: number;
  mention: string[];
  /** what happens after the last tier, in words */
  finalAction: string;
}

export function escalationMessage(d: DecisionEventDetail, v: EscalationView): SlackMessage {
  const title = `${d.severity === 'critical' || d.severity === 'high' ? ':rotating_light: ' : ''}Warden escalation (${v.tier}): ${d.function.name} → ${describeAccess(d.access)}`;
  return {
    text: clip(`${esc(title)} — acknowledge within ${humanDuration(v.ackTimeoutSeconds)}`, 3000),
    blocks: [
      header(title),
      factsSection(d),
      ...reasonAndIds(d),
      { type: 'context', elements: [{ type: 'mrkdwn', text: clip(`${v.mention.map(user).join(' ')} tier ${v.tierIndex + 1} of ${v.tierCount}${v.attempts > 1 ? `, notice ${v.attempt} of ${v.attempts}` : ''} · no acknowledgement within ${humanDuration(v.ackTimeoutSeconds)} → ${v.tierIndex + 1 < v.tierCount || v.attempt < v.attempts ? 'next notice' : esc(v.finalAction)}`, 2900) }] },
      { type: 'actions', block_id: 'warden_escalation', elements: [button('Acknowledge', ACTIONS.ack, v.ackId, 'primary'), button('Looking into it', ACTIONS.looking, v.ackId)] },
    ],
  };
}

export type EscalationClosedView =
  | { outcome: 'acknowledged'; by: string; at: string; tier: string }
  | { outcome: 'passed'; at: string; tier: string; next: string };

export function escalationClosedMessage(d: DecisionEventDetail, v: EscalationClosedView): SlackMessage {
  const what = `${d.function.name} → ${describeAccess(d.access)}`;
  const line = v.outcome === 'acknowledged'
    ? `:white_check_mark: *Acknowledged* by ${user(v.by)} at ${slackDate(v.at)} (tier ${esc(v.tier)}). Escalation stopped.`
    : `:arrow_up: *No acknowledgement* from tier ${esc(v.tier)} by ${slackDate(v.at)}. ${esc(v.next)}`;
  const title = v.outcome === 'acknowledged' ? `Acknowledged: ${what}` : `Escalated past ${v.tier}: ${what}`;
  return {
    text: clip(`${esc(title)}. ${plain(line)}`, 3000),
    blocks: [header(title), factsSection(d), ...reasonAndIds(d), { type: 'section', text: { type: 'mrkdwn', text: clip(line, 2900) } }],
  };
}
