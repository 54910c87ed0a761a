import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import type { MessageRef } from './slack-port';
import { WardenSlackError } from './errors';

/**
 * The approvals table (engine/audit/tables.ts `approvals`, pk `approvalId`): one item per wait on a
 * Slack button — an approval (Approve / Deny) or an escalation tier's acknowledgement. The item
 * holds the task token; Slack only ever sees the opaque id. Every transition is a conditional
 * update, so a second click or a Slack retry can never decide twice.
 */
export type CallbackKind = 'approval' | 'ack';
export type CallbackStatus = 'pending' | 'approved' | 'denied' | 'acknowledged' | 'expired';
export type DecidedStatus = 'approved' | 'denied' | 'acknowledged';

export interface CallbackItem {
  approvalId: string;
  kind: CallbackKind;
  status: CallbackStatus;
  /** present while pending only */
  taskToken?: string;
  functionName: string;
  incidentId: string;
  decisionId: string;
  executionId: string;
  stateName: string;
  createdAt: string;
  /** epoch ms after which no decision is accepted (created + the wait's TimeoutSeconds) */
  expiresAt: number;
  heartbeatSeconds: number;
  messages: MessageRef[];
  /** acks: who may acknowledge (escalation.yaml, fixed at synth); approvals check approvers.yaml at click time */
  allowedUsers?: string[];
  tier?: string;
  decidedBy?: string;
  decidedAt?: string;
  expiredAt?: string;
  lastHeartbeatBy?: string;
  lastHeartbeatAt?: string;
  /** epoch seconds: DynamoDB TTL removes the item 30 days after it expires */
  ttl: number;
}

export class CallbackStoreError extends WardenSlackError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CallbackStoreError';
  }
}

/** The opaque id a button carries: derived from the execution and state, so a retried task reuses it. Never the token. */
export function callbackIdFor(kind: CallbackKind, executionId: string, stateName: string): string {
  const h = createHash('sha256').update(`${kind}\n${executionId}\n${stateName}`).digest('base64url').slice(0, 32);
  return `${kind === 'approval' ? 'apr' : 'ack'}_${h}`;
}
export const CALLBACK_ID_RE = /^(apr|ack)_[A-Za-z0-9_-]{32}$/;

const RETENTION_S = 30 * 86400;

/**
 * One open request per subject: a lock item (`lock_…`, never clickable) names the execution that
 * holds it and until when. Repeats of the same violation while it is held — the agent and the
 * engine report an access each time it happens — do not post a second request.
 */
export interface LockItem {
  approvalId: string;
  kind: 'lock';
  holder: string;
  status: 'pending' | 'approved' | 'denied' | 'acknowledged' | 'expired' | 'unacknowledged';
  /** epoch ms; the lock can be claimed again from then on */
  until: number;
  subject: string;
  ttl: number;
}

/** The lock id of a subject, e.g. `approval` + function + exact access, or `escalation` + incident id. */
export function lockIdFor(scope: 'approval' | 'escalation', subject: string): string {
  return `lock_${createHash('sha256').update(`${scope}\n${subject}`).digest('base64url').slice(0, 32)}`;
}

function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export class CallbackStore {
  constructor(private readonly doc: Pick<DynamoDBDocumentClient, 'send'>, private readonly tableName: string) {}

  static ttlFor(expiresAtMs: number): number {
    return Math.floor(expiresAtMs / 1000) + RETENTION_S;
  }

  async get(approvalId: string): Promise<CallbackItem | undefined> {
    const out = await this.wrap('GetItem', () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: { approvalId }, ConsistentRead: true })));
    return out.Item as CallbackItem | undefined;
  }

  /** Creates the pending item; when it already exists (a retried task), stores the new token and returns the old item. */
  async createPending(item: CallbackItem): Promise<{ created: true } | { created: false; existing: CallbackItem }> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(approvalId)' }));
      return { created: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw new CallbackStoreError(`PutItem ${item.approvalId} failed: ${(err as Error).message}`, { cause: err });
    }
    const out = await this.wrap('UpdateItem', () => this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: { approvalId: item.approvalId },
      UpdateExpression: 'SET taskToken = :t, expiresAt = :e, #ttl = :ttl',
      ConditionExpression: '#s = :pending',
      ExpressionAttributeNames: { '#s': 'status', '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':t': item.taskToken, ':e': item.expiresAt, ':ttl': item.ttl, ':pending': 'pending' },
      ReturnValues: 'ALL_NEW',
    })).catch((err: unknown) => {
      if (isConditionFailure(err)) throw new CallbackStoreError(`${item.approvalId} is already closed; a retried task cannot reopen it`, { cause: err });
      throw err;
    }));
    return { created: false, existing: out.Attributes as CallbackItem };
  }

  async attachMessages(approvalId: string, messages: MessageRef[]): Promise<void> {
    await this.wrap('UpdateItem', () => this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: { approvalId },
      UpdateExpression: 'SET messages = :m',
      ConditionExpression: 'attribute_exists(approvalId)',
      ExpressionAttributeValues: { ':m': messages },
    })));
  }

  /**
   * pending → decided, only while pending and not past expiresAt. Returns the item as it was
   * (with its token) or null when someone or something got there first.
   */
  async decide(approvalId: string, status: DecidedStatus, by: string, atIso: string, nowMs: number): Promise<CallbackItem | null> {
    try {
      const out = await this.doc.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { approvalId },
        UpdateExpression: 'SET #s = :s, decidedBy = :by, decidedAt = :at REMOVE taskToken',
        ConditionExpression: '#s = :pending AND expiresAt > :now AND attribute_exists(taskToken)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': status, ':by': by, ':at': atIso, ':pending': 'pending', ':now': nowMs },
        ReturnValues: 'ALL_OLD',
      }));
      return out.Attributes as CallbackItem;
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw new CallbackStoreError(`UpdateItem ${approvalId} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Undo `decide` when the callback could not be delivered for a transient reason (the click can be repeated). */
  async reopen(approvalId: string, taskToken: string, by: string): Promise<void> {
    await this.wrap('UpdateItem', () => this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: { approvalId },
      UpdateExpression: 'SET #s = :pending, taskToken = :t REMOVE decidedBy, decidedAt',
      ConditionExpression: 'decidedBy = :by AND #s <> :expired',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':pending': 'pending', ':t': taskToken, ':by': by, ':expired': 'expired' },
    })));
  }

  /** Marks the item expired (the wait timed out, or the task was gone when a click came). Returns the item as it was. */
  async expire(approvalId: string, atIso: string): Promise<CallbackItem | undefined> {
    try {
      const out = await this.doc.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { approvalId },
        UpdateExpression: 'SET #s = :expired, expiredAt = :at REMOVE taskToken',
        ConditionExpression: 'attribute_exists(approvalId)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':expired': 'expired', ':at': atIso },
        ReturnValues: 'ALL_OLD',
      }));
      return out.Attributes as CallbackItem;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw new CallbackStoreError(`UpdateItem ${approvalId} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Records a sign of life on a pending item; returns its token, or null when it is no longer pending. */
  async heartbeat(approvalId: string, by: string, atIso: string, nowMs: number): Promise<string | null> {
    try {
      const out = await this.doc.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { approvalId },
        UpdateExpression: 'SET lastHeartbeatBy = :by, lastHeartbeatAt = :at',
        ConditionExpression: '#s = :pending AND expiresAt > :now AND attribute_exists(taskToken)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':by': by, ':at': atIso, ':pending': 'pending', ':now': nowMs },
        ReturnValues: 'ALL_NEW',
      }));
      return (out.Attributes as CallbackItem).taskToken ?? null;
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw new CallbackStoreError(`UpdateItem ${approvalId} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Claims a subject for `holder` until `untilMs`; a retry by the same holder succeeds again. */
  async claimLock(lockId: string, holder: string, subject: string, untilMs: number, nowMs: number, attempt = 0): Promise<{ claimed: true } | { claimed: false; lock: LockItem }> {
    const item: LockItem = { approvalId: lockId, kind: 'lock', holder, status: 'pending', until: untilMs, subject: subject.slice(0, 1000), ttl: CallbackStore.ttlFor(untilMs) };
    try {
      await this.doc.send(new PutCommand({
        TableName: this.tableName, Item: item,
        ConditionExpression: 'attribute_not_exists(approvalId) OR #until <= :now OR holder = :holder',
        ExpressionAttributeNames: { '#until': 'until' },
        ExpressionAttributeValues: { ':now': nowMs, ':holder': holder },
      }));
      return { claimed: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw new CallbackStoreError(`PutItem ${lockId} failed: ${(err as Error).message}`, { cause: err });
    }
    const lock = (await this.get(lockId)) as unknown as LockItem | undefined;
    // removed between the put and the read (TTL): try once more, then report the conflict
    if (!lock) {
      if (attempt < 1) return this.claimLock(lockId, holder, subject, untilMs, nowMs, attempt + 1);
      throw new CallbackStoreError(`lock ${lockId} is contended and vanished twice; retry the task`);
    }
    return { claimed: false, lock };
  }

  /** Records how the holder's request ended and how long repeats stay quiet; a lock taken over by someone else is left alone. */
  async settleLock(lockId: string, holder: string, status: LockItem['status'], untilMs: number): Promise<void> {
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { approvalId: lockId },
        UpdateExpression: 'SET #s = :s, #until = :until, #ttl = :ttl',
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeNames: { '#s': 'status', '#until': 'until', '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':s': status, ':until': untilMs, ':ttl': CallbackStore.ttlFor(untilMs), ':holder': holder },
      }));
    } catch (err) {
      if (isConditionFailure(err)) return;
      throw new CallbackStoreError(`UpdateItem ${lockId} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private async wrap<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CallbackStoreError) throw err;
      throw new CallbackStoreError(`${op} on ${this.tableName} failed: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    }
  }
}
