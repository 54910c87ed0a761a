import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Access } from '../../engine/events/access-event';
import { WardenSlackError } from '../slack/errors';

/**
 * Time-bound exceptions granted by an approval, in the exceptions table (pk functionName, sk
 * exceptionId). The record carries the exact `access` that was approved (what the rules engine
 * matches before the policy, see engine/handler/exceptions.ts) and the equivalent allow-list
 * `entry` (the policy's AllowException form, for `compilePolicy(repo, { exceptions })`).
 */
export type AllowEntry =
  | { id: string; aws: string; resource?: string }
  | { id: string; host: string }
  | { id: string; cidr: string; port?: number };

export interface ExceptionRecord {
  functionName: string;
  exceptionId: string;
  access: Access;
  entry: AllowEntry;
  /** ISO time; the exception no longer applies from then on */
  expiresAt: string;
  /** the same instant as epoch ms (AllowException.expiresAt) */
  expiresAtMs: number;
  grantedBy: string;
  approvalId: string;
  incidentId: string;
  decisionId: string;
  rule: string | null;
  policyVersion: string;
  createdAt: string;
  /** epoch seconds; DynamoDB TTL removes the item a day after it expires */
  ttl: number;
}

export class ExceptionError extends WardenSlackError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExceptionError';
  }
}

/** An approval whose access cannot be written as an exact allow entry: not retried, the execution fails visibly. */
export class ExactExceptionError extends WardenSlackError {
  constructor(message: string) {
    super(message);
    this.name = 'ExactExceptionError';
  }
}

const GLOB_CHARS = /[*?]/;

/**
 * The narrowest allow entry that covers exactly this access. A value holding a glob character
 * cannot be written as a literal entry (it would match more than what was approved), so it is
 * refused rather than widened.
 */
export function allowEntryFor(access: Access, id: string): AllowEntry {
  const literal = (what: string, v: string) => {
    if (GLOB_CHARS.test(v)) throw new ExactExceptionError(`cannot grant an exact exception: the ${what} ${JSON.stringify(v)} contains "*" or "?", which an allow entry would read as a pattern; add a reviewed allow entry to the rules instead`);
    return v;
  };
  if (access.kind === 'aws') {
    const aws = `${literal('service', access.service ?? '')}:${literal('action', access.action ?? '')}`;
    return access.resource ? { id, aws, resource: literal('resource', access.resource) } : { id, aws };
  }
  if (access.host) return { id, host: `${literal('host', access.host)}${access.port !== undefined ? `:${access.port}` : ''}` };
  if (access.address) return { id, cidr: `${access.address}/${access.address.includes(':') ? 128 : 32}`, ...(access.port !== undefined ? { port: access.port } : {}) };
  throw new ExactExceptionError('cannot grant an exception for an access without host, address or AWS action');
}

export interface ExceptionStorePort {
  /** idempotent: the same exceptionId written twice keeps the first record */
  grant(record: ExceptionRecord): Promise<{ created: boolean }>;
}

export class DynamoExceptionStore implements ExceptionStorePort {
  constructor(private readonly doc: Pick<DynamoDBDocumentClient, 'send'>, private readonly tableName: string) {}

  async grant(record: ExceptionRecord): Promise<{ created: boolean }> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: record, ConditionExpression: 'attribute_not_exists(exceptionId)' }));
      return { created: true };
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return { created: false };
      throw new ExceptionError(`PutItem ${record.exceptionId} on ${this.tableName} failed: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    }
  }
}
