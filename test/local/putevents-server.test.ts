import { EventBridgeClient, PutEventsCommand, ListRulesCommand } from '@aws-sdk/client-eventbridge';
import { handlePutEvents, MAX_REQUEST_BYTES, startPutEventsServer, type PutEventsServer } from '../../engine/local/putevents-server';

const creds = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
let server: PutEventsServer | undefined;
afterEach(async () => { await server?.close(); server = undefined; });

const client = (url: string) => new EventBridgeClient({ region: 'us-east-1', endpoint: url, credentials: creds, maxAttempts: 1 });
const entry = (i: number, extra: Record<string, unknown> = {}) => ({ Source: 'warden.agent', DetailType: 'Access Observed', Detail: JSON.stringify({ n: i }), EventBusName: 'warden', ...extra });

describe('local PutEvents endpoint through the real EventBridge client', () => {
  it('accepts entries, returns EventIds and keeps the events with their envelope', async () => {
    const seen: number[] = [];
    server = await startPutEventsServer({ onEvents: (evs) => seen.push(evs.length), account: '123456789012', region: 'eu-west-1' });
    const out = await client(server.url).send(new PutEventsCommand({ Entries: [entry(1), entry(2, { Time: new Date('2026-11-23T18:00:00Z'), Resources: ['arn:x'] })] }));
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries!.map((e) => e.EventId)).toEqual(server.events.map((e) => e.eventId));
    expect(server.events[1]).toMatchObject({ source: 'warden.agent', detailType: 'Access Observed', detail: { n: 2 }, eventBusName: 'warden', time: '2026-11-23T18:00:00.000Z', resources: ['arn:x'] });
    expect(server.events[1]!.envelope).toMatchObject({ version: '0', 'detail-type': 'Access Observed', source: 'warden.agent', account: '123456789012', region: 'eu-west-1', detail: { n: 2 } });
    expect(seen).toEqual([2]);
  });

  it('fails entries one by one with ErrorCode and ErrorMessage', async () => {
    server = await startPutEventsServer({ failEntries: (_e, i) => (i === 1 ? 'ThrottlingException' : undefined) });
    const out = await client(server.url).send(new PutEventsCommand({ Entries: [entry(0), entry(1), entry(2, { Detail: 'not json' }), entry(3, { Source: 'aws.s3' }), entry(4, { Detail: '[1]' })] }));
    expect(out.FailedEntryCount).toBe(4);
    expect(out.Entries!.map((e) => e.ErrorCode ?? 'ok')).toEqual(['ok', 'ThrottlingException', 'MalformedDetail', 'NotAuthorizedForSourceException', 'MalformedDetail']);
    expect(out.Entries![1]!.ErrorMessage).toMatch(/Simulated ThrottlingException/);
    expect(server.events).toHaveLength(1);
  });

  it('rejects more than 10 entries', async () => {
    server = await startPutEventsServer();
    await expect(client(server.url).send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, (_, i) => entry(i)) })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/between 1 and 10 \(got 11\)/) });
    expect(server.events).toHaveLength(0);
  });

  it('rejects a request over 256 KB', async () => {
    server = await startPutEventsServer();
    const big = JSON.stringify({ pad: 'x'.repeat(130 * 1024) });
    await expect(client(server.url).send(new PutEventsCommand({ Entries: [entry(0, { Detail: big }), entry(1, { Detail: big })] })))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/over the limit/) });
  });

  it('can fail a whole call (throttling) for retry tests', async () => {
    server = await startPutEventsServer({ failRequest: () => ({ status: 400, code: 'ThrottlingException', message: 'Rate exceeded' }) });
    await expect(client(server.url).send(new PutEventsCommand({ Entries: [entry(0)] }))).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('answers other operations with UnknownOperationException', async () => {
    server = await startPutEventsServer();
    await expect(client(server.url).send(new ListRulesCommand({}))).rejects.toMatchObject({ name: 'UnknownOperationException' });
    expect(server.calls()).toBe(0);
  });

  it('listens on a requested port and reports a busy one clearly', async () => {
    server = await startPutEventsServer();
    await expect(startPutEventsServer({ port: server.port })).rejects.toThrow(new RegExp(`Cannot listen on port ${server.port}`));
  });
});

describe('handlePutEvents (pure)', () => {
  const now = new Date('2026-11-23T18:00:00Z');
  let n = 0;
  const id = () => `id-${++n}`;

  it('counts the size as EventBridge does', () => {
    const detail = JSON.stringify({ p: 'x'.repeat(MAX_REQUEST_BYTES - 100) });
    expect(handlePutEvents({ Entries: [entry(0, { Detail: detail })] }, {}, now, id).status).toBe(200);
    expect(handlePutEvents({ Entries: [entry(0, { Detail: detail, Resources: ['r'.repeat(200)] })] }, {}, now, id).status).toBe(400);
  });

  it('rejects a malformed body', () => {
    expect(handlePutEvents({ Entries: 'x' }, {}, now, id)).toMatchObject({ status: 400, payload: { __type: 'ValidationException' } });
    expect(handlePutEvents({ Entries: [] }, {}, now, id)).toMatchObject({ status: 400 });
  });

  it('flags entries missing Source, DetailType or Detail', () => {
    const r = handlePutEvents({ Entries: [{ Source: 'a', Detail: '{}' }] }, {}, now, id);
    expect(r.payload).toEqual({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter(s) Source, DetailType, or Detail is not valid.' }] });
  });

  it('uses the receive time when the entry has none, and the default bus', () => {
    const r = handlePutEvents({ Entries: [{ Source: 'a', DetailType: 'b', Detail: '{}' }] }, {}, now, id);
    expect(r.accepted[0]).toMatchObject({ time: '2026-11-23T18:00:00.000Z', eventBusName: 'default' });
  });
});
