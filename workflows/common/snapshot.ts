import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { TABLES } from '../../engine/audit/tables';
import type { FunctionState, RoleState } from './account-port';
import { SnapshotError } from './errors';

/**
 * The state quarantine takes away and restore gives back, stored once per incident in the
 * snapshots table (conditional put: never overwritten).
 */
export const RoleSnapshotSchema = z.object({
  roleName: z.string().min(1),
  arn: z.string().min(1),
  attachedPolicyArns: z.array(z.string()),
  inlinePolicies: z.record(z.string(), z.string()),
  permissionsBoundaryArn: z.string().nullable(),
  tags: z.record(z.string(), z.string()),
});

export const FunctionSnapshotSchema = z.object({
  functionName: z.string().min(1),
  arn: z.string().min(1),
  roleArn: z.string().min(1),
  reservedConcurrency: z.number().int().min(0).nullable(),
  tags: z.record(z.string(), z.string()),
  eventSourceMappings: z.array(z.object({ uuid: z.string(), eventSourceArn: z.string(), state: z.string() })),
});

export const SnapshotSchema = z.object({
  incidentId: z.string().min(1),
  takenAt: z.string(),
  function: FunctionSnapshotSchema,
  role: RoleSnapshotSchema,
  /** true when taken from the simulated account */
  simulated: z.boolean(),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

export function makeSnapshot(incidentId: string, takenAt: string, fn: FunctionState, role: RoleState, simulated: boolean): Snapshot {
  return SnapshotSchema.parse({ incidentId, takenAt, function: fn, role, simulated });
}

export class SnapshotStore {
  private readonly tableName: string;
  constructor(private readonly doc: Pick<DynamoDBDocumentClient, 'send'>, tableName?: string) {
    this.tableName = tableName ?? TABLES.snapshots.defaultName;
  }

  async get(incidentId: string): Promise<Snapshot | null> {
    let item: unknown;
    try {
      item = (await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { incidentId }, ConsistentRead: true }))).Item;
    } catch (err) {
      throw new SnapshotError(`could not read snapshot ${incidentId} from table ${this.tableName}: ${(err as Error).message}`, { cause: err });
    }
    if (!item) return null;
    const parsed = SnapshotSchema.safeParse(item);
    if (!parsed.success) throw new SnapshotError(`snapshot ${incidentId} in table ${this.tableName} is malformed (${z.prettifyError(parsed.error)}); restore cannot trust it — inspect the item`);
    return parsed.data;
  }

  /** Stores the snapshot unless one exists for the incident; returns the stored one either way. */
  async putOnce(s: Snapshot): Promise<{ created: boolean; snapshot: Snapshot }> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: s, ConditionExpression: 'attribute_not_exists(incidentId)' }));
      return { created: true, snapshot: s };
    } catch (err) {
      if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') {
        throw new SnapshotError(`could not store snapshot ${s.incidentId} in table ${this.tableName}: ${(err as Error).message}`, { cause: err });
      }
    }
    const existing = await this.get(s.incidentId);
    if (!existing) throw new SnapshotError(`snapshot ${s.incidentId}: conditional put failed but no item exists; retry`);
    return { created: false, snapshot: existing };
  }
}
