import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import type { DecisionEventDetail } from '../../engine/events/decision-event';
import { PublishError } from '../../engine/handler/errors';
import { putEventsPublisher, toPutEventsEntry } from '../../engine/handler/publisher';

const eb = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'us-east-1' });
const noSleep = async () => {};

function decision(n: number): DecisionEventDetail {
  return {
    id: `e${n}`,
    decisionId: `d${n}`,
    eventId: `e${n}`,
    incidentId: `i${n}`,
    verdict: 'deny',
    rule: 'no-paste',
    severity: 'high',
    response: 'escalate',
    policyVersion: 'sha256:abc',
    time: '2026-11-23T18:00:00.000Z',
    function: { name: 'orders-api', roleArn: 'arn:aws:iam::123456789012:role/orders', tags: {} },
    access: { kind: 'http', host: 'pastebin.com', port: 443 },
    mode: 'monitor',
    blocked: false,
    count: 1,
    reason: 'denied by rule no-paste',
  };
}

const entriesOf = (call: number) => (eb.commandCalls(PutEventsCommand)[call]!.args[0].input.Entries ?? []);

beforeEach(() => eb.reset());

describe('putEventsPublisher', () => {
  it('builds a Policy Decision entry from the engine source', () => {
    const e = toPutEventsEntry(decision(1), 'warden');
    expect(e).toMatchObject({ EventBusName: 'warden', Source: 'warden.engine', DetailType: 'Policy Decision', Resources: ['arn:aws:iam::123456789012:role/orders'] });
    expect(JSON.parse(e.Detail!)).toEqual(decision(1));
  });

  it('sends batches of at most 10', async () => {
    eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `ok${i}` })) }));
    await putEventsPublisher({ client, busName: 'warden', sleep: noSleep }).publish(Array.from({ length: 23 }, (_, i) => decision(i)));
    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
  });

  it('retries only the entries that failed', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { EventId: 'c' }] })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });
    await putEventsPublisher({ client, busName: 'warden', sleep: noSleep }).publish([decision(1), decision(2), decision(3)]);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(2);
    expect(JSON.parse(entriesOf(1)[0]!.Detail!).decisionId).toBe('d2');
  });

  it('retries after a failed call, backing off', async () => {
    const waits: number[] = [];
    eb.on(PutEventsCommand).rejectsOnce(new Error('socket hang up')).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }] });
    await putEventsPublisher({ client, busName: 'warden', sleep: async (ms) => void waits.push(ms), backoffMs: 10 }).publish([decision(1)]);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(2);
    expect(waits).toEqual([10]);
  });

  it('throws PublishError naming the entries still failing after the last attempt (never drops them)', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] });
    const p = putEventsPublisher({ client, busName: 'warden', sleep: noSleep, maxAttempts: 3 }).publish([decision(7)]);
    await expect(p).rejects.toThrow(PublishError);
    await expect(putEventsPublisher({ client, busName: 'warden', sleep: noSleep, maxAttempts: 3 }).publish([decision(7)])).rejects.toThrow(/d7 InternalFailure: boom/);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(6);
  });

  it('treats a missing result entry as a failure', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    await expect(putEventsPublisher({ client, busName: 'warden', sleep: noSleep, maxAttempts: 1 }).publish([decision(1)])).rejects.toThrow(/MissingResult/);
  });

  it('publishes nothing for no decisions', async () => {
    await putEventsPublisher({ client, busName: 'warden', sleep: noSleep }).publish([]);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});
