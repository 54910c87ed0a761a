/**
 * A local HTTP endpoint speaking EventBridge's PutEvents API (JSON 1.1, `X-Amz-Target:
 * AWSEvents.PutEvents`), so the real `@aws-sdk/client-eventbridge` (endpoint from
 * `AWS_ENDPOINT_URL_EVENTBRIDGE` or `endpoint`) talks to it in tests and in `warden simulate`.
 * Enforces the service limits (1–10 entries, 256 KB per request), fails entries one by one as the
 * service does (ErrorCode/ErrorMessage), and returns EventIds. Signatures are not verified.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

export const PUT_EVENTS_TARGET = 'AWSEvents.PutEvents';
export const MAX_ENTRIES = 10;
export const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;

const EntrySchema = z.object({
  Source: z.string().optional(),
  DetailType: z.string().optional(),
  Detail: z.string().optional(),
  EventBusName: z.string().optional(),
  Time: z.union([z.number(), z.string()]).optional(),
  Resources: z.array(z.string()).optional(),
  TraceHeader: z.string().optional(),
}).loose();
export type PutEventsEntry = z.infer<typeof EntrySchema>;

const RequestSchema = z.object({ Entries: z.array(EntrySchema), EndpointId: z.string().optional() });

/** An accepted event, as a rule target would see it (`detail` parsed). */
export interface ReceivedEvent {
  eventId: string;
  source: string;
  detailType: string;
  detail: unknown;
  eventBusName: string;
  /** ISO time: the entry's Time, else the time it was received */
  time: string;
  resources: string[];
  /** the EventBridge envelope (`id`, `detail-type`, …) — what event patterns match against */
  envelope: { version: '0'; id: string; 'detail-type': string; source: string; account: string; time: string; region: string; resources: string[]; detail: unknown };
}

export interface PutEventsServerOptions {
  /** default 0: an ephemeral port */
  port?: number;
  host?: string;
  account?: string;
  region?: string;
  /** return an ErrorCode to fail that entry (e.g. "ThrottlingException", "InternalFailure"). */
  failEntries?: (entry: PutEventsEntry, index: number) => string | undefined;
  /** return an error to fail the whole call (e.g. { status: 400, code: 'ThrottlingException' }). */
  failRequest?: (entries: PutEventsEntry[]) => { status: number; code: string; message?: string } | undefined;
  /** called with the accepted events of each call, in order. */
  onEvents?: (events: ReceivedEvent[]) => void;
}

export interface PutEventsServer {
  url: string;
  port: number;
  /** every accepted event, in arrival order */
  events: ReceivedEvent[];
  /** number of PutEvents calls received (accepted or not) */
  calls: () => number;
  close(): Promise<void>;
}

export class PutEventsServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PutEventsServerError';
  }
}

/** Size of the entries as EventBridge counts it. */
function entrySize(e: PutEventsEntry): number {
  let n = e.Time !== undefined ? 14 : 0;
  n += Buffer.byteLength(e.Source ?? '') + Buffer.byteLength(e.DetailType ?? '') + Buffer.byteLength(e.Detail ?? '');
  for (const r of e.Resources ?? []) n += Buffer.byteLength(r);
  return n;
}

function toIso(t: number | string | undefined, now: Date): string {
  if (t === undefined) return now.toISOString();
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  return Number.isNaN(d.getTime()) ? now.toISOString() : d.toISOString();
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** Validates one entry as the service does; returns an error result or the parsed detail. */
function checkEntry(e: PutEventsEntry): { error: { ErrorCode: string; ErrorMessage: string } } | { detail: unknown } {
  if (!e.Source || !e.DetailType || e.Detail === undefined) {
    return { error: { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter(s) Source, DetailType, or Detail is not valid.' } };
  }
  if (e.Source.startsWith('aws.')) {
    return { error: { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: `Not authorized for the source "${e.Source}".` } };
  }
  let detail: unknown;
  try { detail = JSON.parse(e.Detail); } catch { return { error: { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' } }; }
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) return { error: { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed: it must be a JSON object.' } };
  return { detail };
}

/** Pure handling of one PutEvents request body; `now` and ids injected for tests. */
export function handlePutEvents(
  body: unknown, opts: PutEventsServerOptions, now: Date, newId: () => string,
): { status: number; payload: unknown; accepted: ReceivedEvent[] } {
  const parsed = RequestSchema.safeParse(body);
  if (!parsed.success) {
    return { status: 400, payload: { __type: 'ValidationException', message: `Invalid PutEvents request: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}` }, accepted: [] };
  }
  const entries = parsed.data.Entries;
  if (entries.length < 1 || entries.length > MAX_ENTRIES) {
    return { status: 400, payload: { __type: 'ValidationException', message: `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES} (got ${entries.length}).` }, accepted: [] };
  }
  const total = entries.reduce((n, e) => n + entrySize(e), 0);
  if (total > MAX_REQUEST_BYTES) {
    return { status: 400, payload: { __type: 'ValidationException', message: `Total size of the entries in the request is over the limit (${total} > ${MAX_REQUEST_BYTES} bytes).` }, accepted: [] };
  }
  const whole = opts.failRequest?.(entries);
  if (whole) return { status: whole.status, payload: { __type: whole.code, message: whole.message ?? `Simulated ${whole.code}` }, accepted: [] };

  const results: EntryResult[] = [];
  const accepted: ReceivedEvent[] = [];
  entries.forEach((e, i) => {
    const forced = opts.failEntries?.(e, i);
    if (forced) { results.push({ ErrorCode: forced, ErrorMessage: `Simulated ${forced} for entry ${i}.` }); return; }
    const c = checkEntry(e);
    if ('error' in c) { results.push(c.error); return; }
    const eventId = newId();
    const time = toIso(e.Time, now);
    const eventBusName = e.EventBusName ?? 'default';
    const resources = e.Resources ?? [];
    const account = opts.account ?? '000000000000';
    const region = opts.region ?? 'us-east-1';
    accepted.push({
      eventId, source: e.Source!, detailType: e.DetailType!, detail: c.detail, eventBusName, time, resources,
      envelope: { version: '0', id: eventId, 'detail-type': e.DetailType!, source: e.Source!, account, time, region, resources, detail: c.detail },
    });
    results.push({ EventId: eventId });
  });
  const failed = results.filter((r) => 'ErrorCode' in r).length;
  return { status: 200, payload: { FailedEntryCount: failed, Entries: results }, accepted };
}

/** Starts the endpoint on 127.0.0.1. */
export async function startPutEventsServer(opts: PutEventsServerOptions = {}): Promise<PutEventsServer> {
  const events: ReceivedEvent[] = [];
  let calls = 0;
  const send = (res: http.ServerResponse, status: number, payload: unknown) => {
    const body = JSON.stringify(payload);
    const headers: Record<string, string | number> = { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': randomUUID() };
    const type = (payload as { __type?: string }).__type;
    if (status >= 400 && type) headers['x-amzn-errortype'] = type;
    res.writeHead(status, headers).end(body);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooBig = true; else chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) return send(res, 413, { __type: 'ValidationException', message: `Request body over ${MAX_BODY_BYTES} bytes.` });
      if (req.method !== 'POST') return send(res, 400, { __type: 'UnknownOperationException', message: 'PutEvents is a POST.' });
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== PUT_EVENTS_TARGET) {
        return send(res, 400, { __type: 'UnknownOperationException', message: `Only ${PUT_EVENTS_TARGET} is served here (got "${target}").` });
      }
      calls++;
      let body: unknown;
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'); } catch {
        return send(res, 400, { __type: 'SerializationException', message: 'Request body is not valid JSON.' });
      }
      const out = handlePutEvents(body, opts, new Date(), randomUUID);
      events.push(...out.accepted);
      if (out.accepted.length) {
        try { opts.onEvents?.(out.accepted); } catch (err) {
          process.stderr.write(`putevents-server: onEvents threw: ${String(err)}\n`);
        }
      }
      return send(res, out.status, out.payload);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new PutEventsServerError(`Cannot listen on port ${opts.port ?? 0}: ${err.message}`, { cause: err })));
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    events,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
