import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { AccessSchema } from '../events/access-event';
import { TABLES } from '../audit/tables';

// The exact-match semantics live in a zod-free module the agent loads too; re-exported here.
export { exceptionCovers, exceptionLookup, exceptionRule, findException, EXCEPTION_RULE_PREFIX, NO_EXCEPTIONS, type ActiveException, type ExceptionLike, type ExceptionLookup } from './exception-match';

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
