import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Decision, DecisionEventDetail } from '../events/decision-event';
import type { AuditSink } from './core';

/**
 * The audit record of one decision, in the audit table's key layout (engine/audit/tables.ts):
 * pk `FN#<function>`, sk `<time>#decision#<decisionId>`. Carries the rule id and policy version.
 */
export function decisionAuditItem(d: DecisionEventDetail): Record<string, unknown> {
  return {
    pk: `FN#${d.function.name}`,
    sk: `${d.time}#decision#${d.decisionId}`,
    type: 'decision',
    decisionId: d.decisionId,
    eventId: d.eventId,
    incidentId: d.incidentId,
    time: d.time,
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

/** The audit record of an event that could not be parsed: pk `INVALID`, the error and the clipped raw input. */
export function invalidAuditItem(d: Decision, raw: unknown, time: string): Record<string, unknown> {
  let text: string;
  try {
    text = JSON.stringify(raw) ?? String(raw);
  } catch {
    text = String(raw);
  }
  return {
    pk: 'INVALID',
    sk: `${time}#invalid#${d.id ?? 'no-id'}`,
    type: 'invalid-event',
    eventId: d.id,
    time,
    verdict: d.verdict,
    rule: d.rule,
    severity: d.severity,
    response: d.response,
    policyVersion: d.policyVersion,
    error: d.error ?? 'invalid event',
    raw: text.length > RAW_LIMIT ? `${text.slice(0, RAW_LIMIT)}…` : text,
  };
}

/** Writes audit records with PutItem; an error propagates (the invocation is retried). */
export function dynamoAuditSink(doc: Pick<DynamoDBDocumentClient, 'send'>, tableName: string): AuditSink {
  return {
    async recordDecision(d) {
      await doc.send(new PutCommand({ TableName: tableName, Item: decisionAuditItem(d) }));
    },
    async recordInvalid(d, raw, time) {
      await doc.send(new PutCommand({ TableName: tableName, Item: invalidAuditItem(d, raw, time) }));
    },
  };
}
