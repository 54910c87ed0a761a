/**
 * Delivers access events to EventBridge with PutEvents: batches of at most 10 entries and 256 KB,
 * retries only the entries that failed (PutEvents fails per entry), all within a time budget;
 * whatever still fails is written as one structured log line per event, so nothing is lost silently.
 */
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { AccessEvent } from '../events/access-event';
import { ACCESS_EVENT_DETAIL_TYPE, ACCESS_EVENT_SOURCE, type DeliveryReport, type EventSink } from './core';
import { instrumentClient } from './capture/sdk';
import { EXEMPT } from './capture/state';

export const MAX_ENTRIES_PER_CALL = 10;
export const MAX_REQUEST_BYTES = 256 * 1024;

/** Entry codes that never succeed on retry. */
const PERMANENT_CODES = new Set(['ValidationException', 'MalformedDetail', 'InvalidArgument', 'AccessDeniedException',
  'NotAuthorizedForSourceException', 'NotAuthorizedForDetailTypeException', 'ResourceNotFoundException', 'InvalidEventPatternException']);

/** Size of one entry as EventBridge counts it (docs: "Calculating PutEvents event entry size"). */
export function entrySize(e: PutEventsRequestEntry): number {
  let n = e.Time ? 14 : 0;
  n += Buffer.byteLength(e.Source ?? '') + Buffer.byteLength(e.DetailType ?? '') + Buffer.byteLength(e.Detail ?? '');
  for (const r of e.Resources ?? []) n += Buffer.byteLength(r);
  return n;
}

/** Splits entries into PutEvents calls: ≤ 10 entries and ≤ 256 KB each. Oversized single entries go to `tooLarge`. */
export function batchEntries<T extends PutEventsRequestEntry>(entries: T[]): { batches: T[][]; tooLarge: T[] } {
  const batches: T[][] = [];
  const tooLarge: T[] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = entrySize(e);
    if (size > MAX_REQUEST_BYTES) { tooLarge.push(e); continue; }
    if (cur.length === MAX_ENTRIES_PER_CALL || bytes + size > MAX_REQUEST_BYTES) { batches.push(cur); cur = []; bytes = 0; }
    cur.push(e);
    bytes += size;
  }
  if (cur.length) batches.push(cur);
  return { batches, tooLarge };
}

export interface PutEventsSinkOptions {
  eventBus: string;
  /** the client; created lazily (the SDK import is not on the cold-start path). */
  client: () => Promise<EventBridgeClient> | EventBridgeClient;
  log: (line: string) => void;
  /** retries of failed entries after the first attempt. Default 3. */
  retries?: number;
  /** ms; doubled per retry. Default 20. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** monotonic ms, for the budget. */
  now?: () => number;
}

interface Pending { entry: PutEventsRequestEntry; event: AccessEvent; lastError: string }

export function toEntry(ev: AccessEvent, eventBus: string): PutEventsRequestEntry {
  return { Source: ACCESS_EVENT_SOURCE, DetailType: ACCESS_EVENT_DETAIL_TYPE, Detail: JSON.stringify(ev), EventBusName: eventBus, Time: new Date(ev.time) };
}

type EventBridgeModule = typeof import('@aws-sdk/client-eventbridge');
/**
 * Loaded on first use, with `require` on purpose: the agent ships as CommonJS, and a dynamic
 * `import()` would load a second (ESM) copy of the SDK next to the one the function uses.
 */
function eventBridgeModule(): EventBridgeModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@aws-sdk/client-eventbridge') as EventBridgeModule;
}
async function putEventsCommand(): Promise<EventBridgeModule['PutEventsCommand']> {
  return eventBridgeModule().PutEventsCommand;
}

export class PutEventsSink implements EventSink {
  private clientP: Promise<EventBridgeClient> | undefined;
  constructor(private readonly o: PutEventsSinkOptions) {}

  async send(events: AccessEvent[], budgetMs: number): Promise<DeliveryReport> {
    const now = this.o.now ?? (() => performance.now());
    const sleep = this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
    const deadline = now() + budgetMs;
    const report: DeliveryReport = { sent: 0, logged: 0 };
    const all: Pending[] = events.map((event) => ({ event, entry: toEntry(event, this.o.eventBus), lastError: '' }));
    const { batches, tooLarge } = batchEntries(all.map((p) => p.entry));
    const byEntry = new Map(all.map((p) => [p.entry, p]));
    for (const e of tooLarge) this.logLost(byEntry.get(e)!, `entry larger than ${MAX_REQUEST_BYTES} bytes`, report);

    let client: EventBridgeClient;
    try {
      client = await this.getClient();
    } catch (err) {
      for (const p of all) if (!tooLarge.includes(p.entry)) this.logLost(p, `EventBridge client unavailable: ${String(err)}`, report);
      return report;
    }
    const retries = this.o.retries ?? 3;
    const backoff = this.o.backoffMs ?? 20;
    for (const batch of batches) {
      let todo = batch.map((e) => byEntry.get(e)!);
      for (let attempt = 0; todo.length > 0; attempt++) {
        const left = deadline - now();
        if (left <= 0) { for (const p of todo) this.logLost(p, `flush budget of ${budgetMs} ms exhausted; last error: ${p.lastError || 'none'}`, report); break; }
        const failed = await this.attempt(client, todo, left, report);
        const retryable = failed.filter((p) => !p.lastError.startsWith('permanent:'));
        for (const p of failed) if (p.lastError.startsWith('permanent:')) this.logLost(p, p.lastError.slice(10), report);
        todo = retryable;
        if (todo.length === 0) break;
        if (attempt >= retries) { for (const p of todo) this.logLost(p, `still failing after ${retries + 1} attempts: ${p.lastError}`, report); break; }
        const wait = Math.min(backoff * 2 ** attempt, Math.max(0, deadline - now()));
        if (wait > 0) await sleep(wait);
      }
    }
    return report;
  }

  /** One PutEvents call; returns the entries that failed (with `lastError` set). */
  private async attempt(client: EventBridgeClient, todo: Pending[], timeLeftMs: number, report: DeliveryReport): Promise<Pending[]> {
    const PutEventsCommand = await putEventsCommand();
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeLeftMs);
    timer.unref();
    try {
      const out = await client.send(new PutEventsCommand({ Entries: todo.map((p) => p.entry) }), { abortSignal: ac.signal });
      const results = out.Entries ?? [];
      if (results.length !== todo.length && (out.FailedEntryCount ?? 0) > 0) {
        for (const p of todo) p.lastError = `PutEvents reported ${out.FailedEntryCount} failures without per-entry results`;
        return todo;
      }
      const failed: Pending[] = [];
      todo.forEach((p, i) => {
        const r = results[i];
        if (r && (r.ErrorCode || !r.EventId)) {
          const code = r.ErrorCode ?? 'Unknown';
          p.lastError = `${PERMANENT_CODES.has(code) ? 'permanent:' : ''}${code}: ${r.ErrorMessage ?? 'no message'}`;
          failed.push(p);
        } else {
          report.sent++;
        }
      });
      return failed;
    } catch (err) {
      const e = err as { name?: string; message?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode ?? 0;
      const permanent = status >= 400 && status < 500 && status !== 429 && !/Throttl/i.test(e.name ?? '') && !e.$retryable;
      for (const p of todo) p.lastError = `${permanent ? 'permanent:' : ''}${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
      return todo;
    } finally {
      clearTimeout(timer);
    }
  }

  private getClient(): Promise<EventBridgeClient> {
    this.clientP ??= Promise.resolve().then(() => this.o.client()).then((c) => {
      (c as unknown as Record<symbol, boolean>)[EXEMPT] = true;
      // Its own middleware marks its requests as the agent's, even when the client's class was
      // never patched (a bundled SDK copy), so the http/socket hooks never capture or block them.
      instrumentClient(c as unknown as Parameters<typeof instrumentClient>[0]);
      return c;
    });
    this.clientP.catch(() => { this.clientP = undefined; });
    return this.clientP;
  }

  private logLost(p: Pending, reason: string, report: DeliveryReport): void {
    report.logged++;
    this.o.log(JSON.stringify({ level: 'ERROR', source: 'warden.agent', message: 'Access event not delivered to EventBridge; logged instead', reason, eventBus: this.o.eventBus, detailType: ACCESS_EVENT_DETAIL_TYPE, event: p.event }));
  }
}

/** The production client: standard SDK configuration (region, credentials, AWS_ENDPOINT_URL_EVENTBRIDGE); no SDK retries (the sink retries per entry). */
export async function defaultEventBridgeClient(region: string | undefined): Promise<EventBridgeClient> {
  const { EventBridgeClient } = eventBridgeModule();
  return new EventBridgeClient({ ...(region ? { region } : {}), maxAttempts: 1 });
}
