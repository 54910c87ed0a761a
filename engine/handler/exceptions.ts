import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { AccessSchema, type Access } from '../events/access-event';
import { TABLES } from '../audit/tables';

/**
 * A time-bound exception in the exceptions table (pk functionName, sk exceptionId), written when
 * an approver approves an access. It allows EXACTLY the approved access (same kind, service,
 * action, resource, host, port) until `expiresAt`, and only where the policy said `unlisted`:
 * an exception never overrides an explicit deny.
 */
export const ExceptionRecordSchema = z.object({
  functionName: z.string().min(1),
  exceptionId: z.string().min(1),
  access: AccessSchema,
  /** ISO time after which the exception no longer applies */
  expiresAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO-8601 timestamp' }),
  grantedBy: z.string().optional(),
  approvalId: z.string().optional(),
  incidentId: z.string().optional(),
  createdAt: z.string().optional(),
  /** epoch seconds; DynamoDB TTL removes the item some time after expiry */
  ttl: z.number().optional(),
});
export type ExceptionRecord = z.infer<typeof ExceptionRecordSchema>;

const normHost = (h: string | undefined) => h?.toLowerCase().replace(/\.$/, '');
const eq = (a: string | undefined, b: string | undefined) => (a ?? null) === (b ?? null);

/** Does the exception cover this access? Exact match; host case-insensitive, trailing dot ignored. */
export function exceptionCovers(ex: Pick<ExceptionRecord, 'access'>, access: Access): boolean {
  const e = ex.access;
  if (e.kind !== access.kind) return false;
  if (e.kind === 'aws') {
    return eq(e.service?.toLowerCase(), access.service?.toLowerCase()) && eq(e.action?.toLowerCase(), access.action?.toLowerCase()) && eq(e.resource, access.resource);
  }
  if (e.host !== undefined && normHost(e.host) !== normHost(access.host)) return false;
  if (e.host === undefined && e.address !== undefined && e.address !== access.address) return false;
  if (e.port !== undefined && e.port !== access.port) return false;
  return true;
}

/** The active exception covering `access` at `now`, if any (the one that lasts longest). */
export function findException(records: ExceptionRecord[], access: Access, now: number): ExceptionRecord | undefined {
  return records
    .filter((r) => Date.parse(r.expiresAt) > now && exceptionCovers(r, access))
    .sort((a, b) => Date.parse(b.expiresAt) - Date.parse(a.expiresAt))[0];
}

export interface ExceptionSource {
  /** the exception records of one function; malformed items are skipped and reported */
  forFunction(functionName: string): Promise<ExceptionRecord[]>;
}

/** Reads a function's exceptions from DynamoDB (one Query, paginated). */
export function dynamoExceptionSource(
  doc: Pick<DynamoDBDocumentClient, 'send'>,
  tableName: string,
  onInvalid: (item: unknown, error: string) => void = () => {},
): ExceptionSource {
  return {
    async forFunction(functionName) {
      const out: ExceptionRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: '#pk = :fn',
            ExpressionAttributeNames: { '#pk': TABLES.exceptions.partitionKey },
            ExpressionAttributeValues: { ':fn': functionName },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          const parsed = ExceptionRecordSchema.safeParse(item);
          if (parsed.success) out.push(parsed.data);
          else onInvalid(item, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return out;
    },
  };
}
