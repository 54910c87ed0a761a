import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DecisionEventDetail } from '../events/decision-event';
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

/** Writes decision audit records with PutItem; an error propagates (the invocation is retried). */
export function dynamoAuditSink(doc: Pick<DynamoDBDocumentClient, 'send'>, tableName: string): AuditSink {
  return {
    async recordDecision(d) {
      await doc.send(new PutCommand({ TableName: tableName, Item: decisionAuditItem(d) }));
    },
  };
}
