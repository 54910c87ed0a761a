/**
 * Where the Slack side records what happened (clicks, refusals, decisions). On AWS and locally this
 * is `engine/audit/audit-log.ts` (DynamoDB audit table); tests may keep entries in memory.
 * pk is `INC#<incidentId>` for everything about an incident.
 */
export interface AuditEntry {
  pk: string;
  type: string;
  [field: string]: unknown;
}

export interface AuditPort {
  record(entry: AuditEntry): Promise<void>;
}

export class MemoryAudit implements AuditPort {
  readonly entries: AuditEntry[] = [];
  async record(entry: AuditEntry): Promise<void> {
    this.entries.push(structuredClone(entry));
  }
}
