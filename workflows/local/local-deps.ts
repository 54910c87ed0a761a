import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AuditLog } from '../../engine/audit/audit-log';
import { TABLES } from '../../engine/audit/tables';
import { GUARDRAIL_DEFAULTS, type GuardrailConfig, type WorkflowDeps } from '../common/deps';
import { MemoryNotifier, type NotifierPort } from '../common/notifier';
import { SnapshotStore } from '../common/snapshot';
import { bindTasks } from '../common/task-runtime';
import { QUARANTINE_TASKS } from '../quarantine/tasks';
import { RESTORE_TASKS } from '../restore/tasks';
import type { SimClock } from './sim-clock';
import type { SimulatedAccount } from './simulated-account';
import { simulatedAccountPort } from './simulated-account-port';

/**
 * Local deps for the quarantine and restore tasks: the SIMULATED account, the simulated clock,
 * the audit and snapshot tables on dynalite (any DynamoDB endpoint), and a notifier (memory by default).
 */
export function localWorkflowDeps(o: {
  account: SimulatedAccount; clock: SimClock; doc: Pick<DynamoDBDocumentClient, 'send'>;
  notifier?: NotifierPort; guardrails?: Partial<GuardrailConfig>; tables?: { audit?: string; snapshots?: string };
}): WorkflowDeps & { notifier: NotifierPort } {
  return {
    account: simulatedAccountPort(o.account),
    audit: new AuditLog({ doc: o.doc, tableName: o.tables?.audit ?? TABLES.audit.defaultName, clock: o.clock }),
    snapshots: new SnapshotStore(o.doc, o.tables?.snapshots ?? TABLES.snapshots.defaultName),
    notifier: o.notifier ?? new MemoryNotifier(),
    clock: o.clock,
    guardrails: { ...GUARDRAIL_DEFAULTS, ...o.guardrails },
    simulated: true,
  };
}

/** WARDEN_TASK → local handler for every quarantine and restore task (the runner's `lambdaHandlers`). */
export function responseLambdaHandlers(deps: WorkflowDeps): Record<string, (payload: unknown) => Promise<unknown>> {
  return bindTasks({ ...QUARANTINE_TASKS, ...RESTORE_TASKS }, deps);
}
