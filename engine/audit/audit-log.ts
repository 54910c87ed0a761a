import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { monotonicFactory } from 'ulid';
import { z } from 'zod';
import { TABLES } from './tables';

/**
 * The audit store: every decision and every workflow action, one item each, in the `audit` table
 * (DynamoDB on AWS, dynalite locally; same client code). Items are append-only: pk
 * (`FN#<function>` or `INC#<incidentId>`), sk `<iso time>#<type>#<ulid>`, so a partition reads back
 * in time order. Time comes from an injected clock.
 */
export class AuditLogError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditLogError';
  }
}

export const AuditEntrySchema = z.object({
  pk: z.string().regex(/^(FN|INC)#.+/, 'pk must be FN#<function> or INC#<incidentId>'),
  type: z.string().min(1, 'type names what happened, e.g. quarantine.action'),
}).catchall(z.unknown());
export type AuditEntry = z.input<typeof AuditEntrySchema>;

export interface AuditItem { pk: string; sk: string; type: string; time: string; id: string; [field: string]: unknown }

export interface AuditLogOptions {
  doc: Pick<DynamoDBDocumentClient, 'send'>;
  tableName?: string;
  clock: { nowMs(): number };
}

export class AuditLog {
  private readonly tableName: string;
  private readonly nextId = monotonicFactory();

  constructor(private readonly opts: AuditLogOptions) {
    this.tableName = opts.tableName ?? TABLES.audit.defaultName;
  }

  /** Appends one entry (never overwrites: the put is conditional on a fresh key). */
  async record(entry: AuditEntry): Promise<void> {
    await this.append(entry);
  }

  /** Appends one entry and returns the stored item. */
  async append(entry: AuditEntry): Promise<AuditItem> {
    const parsed = AuditEntrySchema.safeParse(entry);
    if (!parsed.success) throw new AuditLogError(`invalid audit entry: ${z.prettifyError(parsed.error)}`);
    const now = this.opts.clock.nowMs();
    const time = new Date(now).toISOString();
    const id = this.nextId(now);
    const item: AuditItem = { ...parsed.data, time, id, sk: `${time}#${parsed.data.type}#${id}` } as AuditItem;
    try {
      await this.opts.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (err) {
      throw new AuditLogError(`could not write audit entry ${item.type} to table ${this.tableName}: ${(err as Error).message}`, { cause: err });
    }
    return item;
  }

  /** Every entry of a partition, oldest first (optionally only the given types). */
  async list(pk: string, types?: string[]): Promise<AuditItem[]> {
    const out: AuditItem[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const r = await this.opts.doc.send(new QueryCommand({
          TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk },
          ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}),
        }));
        out.push(...((r.Items ?? []) as AuditItem[]));
        start = r.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      throw new AuditLogError(`could not read audit partition ${pk} from table ${this.tableName}: ${(err as Error).message}`, { cause: err });
    }
    return types ? out.filter((i) => types.includes(i.type)) : out;
  }
}
