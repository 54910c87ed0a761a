import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AuditLog } from '../audit/audit-log';
import type { Decision, DecisionEventDetail } from '../events/decision-event';
import type { AuditSink } from './core';

export const DECISION_AUDIT_TYPE = 'engine.decision';
export const INVALID_EVENT_AUDIT_TYPE = 'engine.invalid-event';
/** partition of events that named no (valid) function */
export const INVALID_EVENT_PK = 'FN#(invalid-event)';

/**
 * The audit entry of one decision (engine/audit/audit-log.ts adds time, id and the sort key):
 * pk `FN#<function>`. Carries the rule id and the policy version behind the decision.
 */
export function decisionAuditItem(d: DecisionEventDetail): { pk: string; type: string } & Record<string, unknown> {
  return {
    pk: `FN#${d.function.name}`,
    type: DECISION_AUDIT_TYPE,
    decisionId: d.decisionId,
    eventId: d.eventId,
    incidentId: d.incidentId,
    decidedAt: d.time,
    functionName: d.function.name,
    verdict: d.verdict,
    rule: d.rule,
    severity: d.severity,
    response: d.response,
    policyVersion: d.policyVersion,
    mode: d.mode,
    blocked: d.blocked,
    count: d.count,
    access: d.access,
    reason: d.reason,
    ...(d.error ? { error: d.error } : {}),
  };
}

const RAW_LIMIT = 8 * 1024;

/** The audit entry of an event that could not be parsed: the error and the clipped raw input. */
export function invalidAuditItem(d: Decision, raw: unknown, time: string): { pk: string; type: string } & Record<string, unknown> {
  let text: string;
  try {
    text = JSON.stringify(raw) ?? String(raw);
  } catch {
    text = String(raw);
  }
  return {
    pk: INVALID_EVENT_PK,
    type: INVALID_EVENT_AUDIT_TYPE,
    eventId: d.id,
    decidedAt: time,
    verdict: d.verdict,
    rule: d.rule,
    severity: d.severity,
    response: d.response,
    policyVersion: d.policyVersion,
    error: d.error ?? 'invalid event',
    raw: text.length > RAW_LIMIT ? `${text.slice(0, RAW_LIMIT)}…` : text,
  };
}

/** Appends audit entries through the shared AuditLog; an error propagates (the invocation is retried). */
export function dynamoAuditSink(doc: Pick<DynamoDBDocumentClient, 'send'>, tableName: string, now: () => number): AuditSink {
  const log = new AuditLog({ doc, tableName, clock: { nowMs: now } });
  return {
    async recordDecision(d) {
      await log.record(decisionAuditItem(d));
    },
    async recordInvalid(d, raw, time) {
      await log.record(invalidAuditItem(d, raw, time));
    },
  };
}
