/**
 * The DynamoDB tables Warden keeps (DynamoDB on AWS, dynalite locally and in tests), shared by
 * the engine, the workflows, infra and the local simulation. All keys are strings.
 */
export const TABLES = {
  /** every access decision and every workflow action. pk `FN#<function>` or `INC#<incidentId>`, sk `<iso time>#<kind>#<id>` */
  audit: { env: 'WARDEN_AUDIT_TABLE', partitionKey: 'pk', sortKey: 'sk', defaultName: 'warden-audit' },
  /** quarantine snapshots, written once per incident (conditional put). pk = incidentId */
  snapshots: { env: 'WARDEN_SNAPSHOT_TABLE', partitionKey: 'incidentId', sortKey: undefined, defaultName: 'warden-snapshots' },
  /** pending and decided approvals. pk = approvalId (opaque, in the Slack button); holds the task token */
  approvals: { env: 'WARDEN_APPROVAL_TABLE', partitionKey: 'approvalId', sortKey: undefined, defaultName: 'warden-approvals' },
  /** time-bound exceptions granted by approvals. pk = function name, sk = exception id */
  exceptions: { env: 'WARDEN_EXCEPTION_TABLE', partitionKey: 'functionName', sortKey: 'exceptionId', defaultName: 'warden-exceptions' },
} as const;

export type TableName = keyof typeof TABLES;
