/**
 * The rules-engine Lambda wiring end to end: the real bundle compiled from rules/, tables created
 * in dynalite from the synthesized template (same keys as on AWS), PutEvents mocked.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { EngineConfigError, EnvelopeError, PublishError } from '../../engine/handler/errors';
import { createHandler } from '../../engine/handler/lambda';
import { startLocalDynamo, type LocalDynamo } from '../../engine/local/local-dynamo';
import { loadRulesDir, toBundle } from '../../engine/policy';
import { synthesizedTemplate } from '../infra/template';

const eb = mockClient(EventBridgeClient);
const NOW = Date.parse('2026-11-23T18:00:00.000Z');
const context = { functionName: 'engine', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30000 } as never;

let dynamo: LocalDynamo;
let env: Record<string, string>;
let bundlePath: string;

/** The engine's environment from the template, Refs to tables resolved to the local table names. */
function engineEnv(): Record<string, string> {
  const t = synthesizedTemplate();
  const [, fn] = Object.entries(t.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.includes('Engine'))!;
  const vars = (fn.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    const ref = (v as { Ref?: string }).Ref;
    out[k] = typeof v === 'string' ? v : ref ? (dynamo.tables[ref] ?? ref) : JSON.stringify(v);
  }
  return out;
}

function agentEvent(id: string, detail: Record<string, unknown>) {
  return { version: '0', id, source: 'warden.agent', 'detail-type': 'Access Observed', account: '123456789012', time: '2026-11-23T18:00:00Z', region: 'us-east-1', resources: [], detail };
}

const access = (over: Record<string, unknown> = {}) => ({
  id: 'acc-1',
  time: '2026-11-23T17:59:59.000Z',
  function: { name: 'orders-api', account: '123456789012', region: 'us-east-1' },
  access: { kind: 'http', host: 'pastebin.com', port: 443 },
  mode: 'block',
  ...over,
});

function handler(overrides: Partial<Parameters<typeof createHandler>[1]> = {}) {
  return createHandler(
    { ...env, WARDEN_RULES_BUNDLE: bundlePath },
    {
      dynamo: dynamo.client,
      eventBridge: new EventBridgeClient({ region: 'us-east-1' }),
      now: () => NOW,
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
      metrics: new Metrics({ serviceName: 'test', namespace: 'Test' }),
      ...overrides,
    },
  );
}

const published = () => eb.commandCalls(PutEventsCommand).flatMap((c) => (c.args[0].input.Entries ?? []).map((e) => ({ ...e, detail: JSON.parse(e.Detail!) })));

async function auditItems(pk: string) {
  const doc = DynamoDBDocumentClient.from(dynamo.client);
  return (await doc.send(new QueryCommand({ TableName: env.WARDEN_AUDIT_TABLE, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk } }))).Items ?? [];
}

beforeAll(async () => {
  dynamo = await startLocalDynamo({ template: synthesizedTemplate() });
  env = engineEnv();
  const dir = mkdtempSync(join(tmpdir(), 'warden-engine-'));
  bundlePath = join(dir, 'policy.json');
  writeFileSync(bundlePath, JSON.stringify(toBundle(await loadRulesDir(resolve(__dirname, '../../rules')))));
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

afterAll(async () => {
  await dynamo.close();
});

beforeEach(() => {
  eb.reset();
  eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `eb-${i}` })) }));
});

describe('rules-engine Lambda', () => {
  it('decides a denied access, audits it with rule and policy version, and publishes a Policy Decision', async () => {
    const out = await handler()(agentEvent('evt-deny', access()), context);
    expect(out).toMatchObject({ eventId: 'evt-deny', counts: { deny: 1 } });
    const [entry] = published();
    expect(entry).toMatchObject({ Source: 'warden.engine', DetailType: 'Policy Decision', EventBusName: env.WARDEN_EVENT_BUS });
    expect(entry!.detail).toMatchObject({ eventId: 'acc-1', verdict: 'deny', rule: 'paste-pastebin', severity: 'critical', response: 'quarantine', function: { name: 'orders-api' } });
    expect(entry!.detail.policyVersion).toMatch(/^sha256:/);
    const audit = await auditItems('FN#orders-api');
    expect(audit.find((a) => a.decisionId === entry!.detail.decisionId)).toMatchObject({ type: 'engine.decision', rule: 'paste-pastebin', policyVersion: entry!.detail.policyVersion });
  });

  it('is idempotent on the EventBridge event id: a redelivery publishes nothing new', async () => {
    const h = handler();
    const first = await h(agentEvent('evt-dup', access({ id: 'acc-dup' })), context);
    const second = await h(agentEvent('evt-dup', access({ id: 'acc-dup' })), context);
    expect(second).toEqual(first);
    expect(published()).toHaveLength(1);
  });

  it('fails the invocation when publishing fails, and a retry then succeeds (nothing lost)', async () => {
    eb.reset();
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'boom' }] });
    const h = handler();
    await expect(h(agentEvent('evt-retry', access({ id: 'acc-retry' })), context)).rejects.toThrow(PublishError);
    eb.reset();
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'ok' }] });
    await expect(h(agentEvent('evt-retry', access({ id: 'acc-retry' })), context)).resolves.toMatchObject({ eventId: 'evt-retry' });
    expect(published()).toHaveLength(1);
  });

  it('audits an invalid access event as a deny with its error and publishes nothing', async () => {
    const out = await handler()(agentEvent('evt-bad', { id: 'acc-bad', function: { name: 'orders-api' } }), context);
    expect(out.counts).toMatchObject({ invalid: 1, deny: 1 });
    expect(published()).toHaveLength(0);
    const items = await auditItems('FN#(invalid-event)');
    expect(items.find((i) => i.eventId === 'acc-bad')).toMatchObject({ type: 'engine.invalid-event', verdict: 'deny', error: expect.any(String) });
  });

  it('honours a time-bound exception from the exceptions table for an unlisted access', async () => {
    const unlisted = access({ id: 'acc-unl', access: { kind: 'http', host: 'api.newpartner.example', port: 443 } });
    await handler()(agentEvent('evt-unl-1', unlisted), context);
    expect(published()[0]!.detail).toMatchObject({ verdict: 'unlisted', response: 'approve' });

    const doc = DynamoDBDocumentClient.from(dynamo.client);
    await doc.send(new PutCommand({
      TableName: env.WARDEN_EXCEPTION_TABLE,
      Item: { functionName: 'orders-api', exceptionId: 'x-1', access: { kind: 'http', host: 'api.newpartner.example', port: 443 }, expiresAt: '2026-11-24T18:00:00.000Z', grantedBy: 'U0ORDERSLEAD' },
    }));
    eb.resetHistory();
    await handler()(agentEvent('evt-unl-2', unlisted), context);
    expect(published()[0]!.detail).toMatchObject({ verdict: 'allow', rule: 'exception:x-1', response: 'none' });
  });

  it('rejects an envelope that is not an agent Access Observed event', async () => {
    const wrong = { ...agentEvent('evt-wrong', access()), source: 'warden.engine' };
    await expect(handler()(wrong, context)).rejects.toThrow(EnvelopeError);
    expect(published()).toHaveLength(0);
  });

  it('refuses to run with a broken environment or a missing bundle', async () => {
    expect(() => createHandler({})).toThrow(EngineConfigError);
    expect(() => createHandler({})).toThrow(/WARDEN_EVENT_BUS/);
    const h = createHandler({ ...env, WARDEN_RULES_BUNDLE: '/nonexistent/policy.json' }, { dynamo: dynamo.client, eventBridge: new EventBridgeClient({ region: 'us-east-1' }), logger: new Logger({ logLevel: 'SILENT' }) });
    await expect(h(agentEvent('evt-nobundle', access({ id: 'acc-nb' })), context)).rejects.toThrow(/cannot load the rules bundle \/nonexistent\/policy.json/);
    expect(published()).toHaveLength(0);
  });
});
