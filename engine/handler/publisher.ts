import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DECISION_EVENT_DETAIL_TYPE, DECISION_EVENT_SOURCE, type DecisionEventDetail } from '../events/decision-event';
import { PublishError } from './errors';

/** Publishes decision events; resolves only when every one was accepted, otherwise throws PublishError. */
export interface DecisionPublisher {
  publish(decisions: DecisionEventDetail[]): Promise<void>;
}

export interface PutEventsPublisherOptions {
  client: Pick<EventBridgeClient, 'send'>;
  busName: string;
  /** attempts per entry for entries PutEvents reports as failed (throttling, internal errors) */
  maxAttempts?: number;
  /** waits between attempts; injected so tests do not sleep */
  sleep?: (ms: number) => Promise<void>;
  /** base back-off in ms, doubled per attempt */
  backoffMs?: number;
}

/** PutEvents accepts at most 10 entries and 256 KB per call. */
export const PUT_EVENTS_BATCH = 10;
const MAX_ENTRY_BYTES = 256 * 1024;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function toPutEventsEntry(d: DecisionEventDetail, busName: string): PutEventsRequestEntry {
  const resources = d.function.roleArn ? [d.function.roleArn] : [];
  return {
    EventBusName: busName,
    Source: DECISION_EVENT_SOURCE,
    DetailType: DECISION_EVENT_DETAIL_TYPE,
    Time: new Date(d.time),
    Resources: resources,
    Detail: JSON.stringify(d),
  };
}

/**
 * PutEvents in batches of 10, retrying only the entries reported as failed (with back-off).
 * Entries still failing after `maxAttempts` make `publish` throw: the Lambda then fails so the
 * event is retried and, finally, parked in the dead-letter queue — never silently dropped.
 */
export function putEventsPublisher(opts: PutEventsPublisherOptions): DecisionPublisher {
  const maxAttempts = opts.maxAttempts ?? 4;
  const sleep = opts.sleep ?? defaultSleep;
  const backoff = opts.backoffMs ?? 50;
  return {
    async publish(decisions) {
      const failed: { decisionId: string; code: string; message: string }[] = [];
      for (let i = 0; i < decisions.length; i += PUT_EVENTS_BATCH) {
        let pending = decisions.slice(i, i + PUT_EVENTS_BATCH).map((d) => ({ d, entry: toPutEventsEntry(d, opts.busName) }));
        for (const p of pending) {
          const size = Buffer.byteLength(p.entry.Detail ?? '') + (p.entry.DetailType?.length ?? 0) + (p.entry.Source?.length ?? 0);
          if (size > MAX_ENTRY_BYTES) throw new PublishError(`decision ${p.d.decisionId} is ${size} bytes, over the 256 KB PutEvents limit`, [{ decisionId: p.d.decisionId, code: 'EntryTooLarge', message: `${size} bytes` }]);
        }
        let lastErrors: { decisionId: string; code: string; message: string }[] = [];
        for (let attempt = 1; pending.length > 0 && attempt <= maxAttempts; attempt++) {
          if (attempt > 1) await sleep(backoff * 2 ** (attempt - 2));
          let result;
          try {
            result = await opts.client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }));
          } catch (err) {
            // the whole call failed (network, throttled call): retry every pending entry
            lastErrors = pending.map((p) => ({ decisionId: p.d.decisionId, code: (err as Error).name, message: (err as Error).message }));
            continue;
          }
          const entries = result.Entries ?? [];
          const retry: typeof pending = [];
          lastErrors = [];
          pending.forEach((p, k) => {
            const e = entries[k];
            if (e && e.EventId && !e.ErrorCode) return;
            retry.push(p);
            lastErrors.push({ decisionId: p.d.decisionId, code: e?.ErrorCode ?? 'MissingResult', message: e?.ErrorMessage ?? 'PutEvents returned no result for this entry' });
          });
          pending = retry;
        }
        if (pending.length > 0) failed.push(...lastErrors);
      }
      if (failed.length > 0) {
        throw new PublishError(
          `${failed.length} of ${decisions.length} decision event(s) were not accepted by PutEvents after ${maxAttempts} attempts: ` +
            failed.slice(0, 3).map((f) => `${f.decisionId} ${f.code}: ${f.message}`).join('; '),
          failed,
        );
      }
    },
  };
}
