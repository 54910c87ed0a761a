import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import type { AccessEvent } from '../../engine/events/access-event';
import { batchEntries, entrySize, MAX_REQUEST_BYTES, PutEventsSink, toEntry } from '../../engine/agent/emitter';
import { startPutEventsServer, type PutEventsServer } from '../../engine/local/putevents-server';

function event(i: number, pad = 0): AccessEvent {
  return {
    id: `01JD${String(i).padStart(22, '0')}`, time: '2026-11-23T18:00:00.000Z', function: { name: 'orders-api', tags: pad ? { pad: 'x'.repeat(pad) } : {} },
    access: { kind: 'http', host: `h${i}.example.com`, port: 443 }, mode: 'monitor', agentVerdict: 'allow', blocked: false, count: 1,
  };
}

const creds = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

describe('batching', () => {
  it('never puts more than 10 entries in a call', () => {
    const { batches } = batchEntries(Array.from({ length: 25 }, (_, i) => toEntry(event(i), 'warden')));
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
  });

  it('never puts more than 256 KB in a call, and sets aside entries too large to ever send', () => {
    const big = Array.from({ length: 5 }, (_, i) => toEntry(event(i, 100 * 1024), 'warden'));
    const huge = toEntry(event(99, 300 * 1024), 'warden');
    const { batches, tooLarge } = batchEntries([...big, huge]);
    for (const b of batches) expect(b.reduce((n, e) => n + entrySize(e), 0)).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(tooLarge).toEqual([huge]);
  });

  it('counts the entry size as EventBridge does (Time = 14 bytes, UTF-8)', () => {
    expect(entrySize({ Source: 'a', DetailType: 'bb', Detail: '{"é":1}', Time: new Date() })).toBe(14 + 1 + 2 + 8);
  });
});

describe('PutEventsSink against aws-sdk-client-mock', () => {
  let eb: ReturnType<typeof mockClient>;
  beforeAll(() => { eb = mockClient(EventBridgeClient); });
  afterEach(() => eb.reset());
  afterAll(() => eb.restore());

  function sink(logs: string[], extra: Partial<ConstructorParameters<typeof PutEventsSink>[0]> = {}) {
    return new PutEventsSink({ eventBus: 'warden', client: () => new EventBridgeClient({ region: 'us-east-1', credentials: creds }), log: (l) => logs.push(l), sleep: async () => undefined, ...extra });
  }

  it('retries only the entries that failed', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 2, Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { EventId: 'c' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }, { EventId: 'd' }] });
    const logs: string[] = [];
    const r = await sink(logs).send([event(1), event(2), event(3), event(4)], 5000);
    expect(r).toEqual({ sent: 4, logged: 0 });
    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.Entries!.map((e) => JSON.parse(e.Detail!).access.host)).toEqual(['h2.example.com', 'h4.example.com']);
    expect(logs).toEqual([]);
  });

  it('retries a throttled call as a whole, then logs what still fails, one line per event', async () => {
    eb.on(PutEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const logs: string[] = [];
    const r = await sink(logs, { retries: 2 }).send([event(1), event(2)], 5000);
    expect(r).toEqual({ sent: 0, logged: 2 });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(3);
    const lines = logs.map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event.access.host)).toEqual(['h1.example.com', 'h2.example.com']);
    expect(lines[0]).toMatchObject({ level: 'ERROR', source: 'warden.agent', eventBus: 'warden' });
    expect(lines[0].reason).toMatch(/still failing after 3 attempts: ThrottlingException/);
  });

  it('does not retry permanent entry errors; logs them at once', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'MalformedDetail', ErrorMessage: 'bad' }, { EventId: 'x' }] });
    const logs: string[] = [];
    const r = await sink(logs).send([event(1), event(2)], 5000);
    expect(r).toEqual({ sent: 1, logged: 1 });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(JSON.parse(logs[0]!).reason).toMatch(/MalformedDetail/);
  });

  it('does not retry an access-denied call', async () => {
    eb.on(PutEventsCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    const logs: string[] = [];
    expect(await sink(logs).send([event(1)], 5000)).toEqual({ sent: 0, logged: 1 });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('stays within the flush budget: what is left when it runs out is logged', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow' }] });
    let t = 0;
    const logs: string[] = [];
    const s = sink(logs, { retries: 100, now: () => t, sleep: async (ms) => { t += ms; } });
    const r = await s.send([event(1)], 100);
    expect(r).toEqual({ sent: 0, logged: 1 });
    expect(JSON.parse(logs[0]!).reason).toMatch(/flush budget of 100 ms exhausted; last error: ThrottlingException/);
    expect(t).toBeLessThanOrEqual(100);
  });

  it('logs every event when the client cannot be created', async () => {
    const logs: string[] = [];
    const s = new PutEventsSink({ eventBus: 'warden', client: () => { throw new Error('no region'); }, log: (l) => logs.push(l) });
    expect(await s.send([event(1), event(2)], 1000)).toEqual({ sent: 0, logged: 2 });
    expect(JSON.parse(logs[0]!).reason).toMatch(/client unavailable: Error: no region/);
  });

  it('sends source warden.agent, detail type "Access Observed", the bus and the event as detail', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }] });
    await sink([]).send([event(7)], 1000);
    const entry = eb.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({ Source: 'warden.agent', DetailType: 'Access Observed', EventBusName: 'warden' });
    expect(JSON.parse(entry.Detail!)).toEqual(event(7));
  });
});

describe('PutEventsSink against the local PutEvents endpoint (real client)', () => {
  let server: PutEventsServer;
  afterEach(async () => { await server?.close(); });

  it('delivers 25 events in three calls', async () => {
    server = await startPutEventsServer();
    const s = new PutEventsSink({ eventBus: 'warden', client: () => new EventBridgeClient({ region: 'us-east-1', endpoint: server.url, credentials: creds, maxAttempts: 1 }), log: () => undefined });
    const r = await s.send(Array.from({ length: 25 }, (_, i) => event(i)), 5000);
    expect(r).toEqual({ sent: 25, logged: 0 });
    expect(server.calls()).toBe(3);
    expect(server.events.map((e) => (e.detail as AccessEvent).access.host)).toEqual(Array.from({ length: 25 }, (_, i) => `h${i}.example.com`));
    expect(server.events[0]).toMatchObject({ source: 'warden.agent', detailType: 'Access Observed', eventBusName: 'warden' });
  });

  it('retries entries the endpoint failed', async () => {
    let failed = 0;
    server = await startPutEventsServer({ failEntries: (e) => (e.Detail?.includes('h2.example.com') && failed++ < 2 ? 'ThrottlingException' : undefined) });
    const s = new PutEventsSink({ eventBus: 'warden', client: () => new EventBridgeClient({ region: 'us-east-1', endpoint: server.url, credentials: creds, maxAttempts: 1 }), log: () => undefined, sleep: async () => undefined });
    const r = await s.send([event(1), event(2), event(3)], 5000);
    expect(r).toEqual({ sent: 3, logged: 0 });
    expect(server.calls()).toBe(3);
  });
});
