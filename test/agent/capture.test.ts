/**
 * Each capture path against real local servers, in each mode, with the events delivered through
 * the real EventBridge client to the local PutEvents endpoint.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AccessEvent } from '../../engine/events/access-event';
import { AccessEventSchema } from '../../engine/events/access-event';
import { AccessDeniedByPolicy, flush, install, uninstall, withWarden, type InstallOptions } from '../../engine/agent';
import { patchClientClass } from '../../engine/agent/capture/sdk';
import { addExempt, clearExempt, isExempt, state } from '../../engine/agent/capture/state';
import { startPutEventsServer, type PutEventsServer } from '../../engine/local/putevents-server';
import { fakePolicy, type FakePolicyOptions } from './fake-policy';
import { get, httpServer, httpsServer, request, tcpServer, TLS, type LocalServer } from './servers';

// jest loads the SDK through its own module registry: patch that copy of the smithy Client class
// (in a plain process the loader hook finds every copy; see register.test.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const smithyClient = require('@smithy/core/client') as { Client: unknown };

let events: PutEventsServer;
let web: LocalServer;
let secure: LocalServer;
let tcp: LocalServer;
const creds = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
const savedEnv = { ...process.env };

beforeAll(async () => {
  [events, web, secure, tcp] = await Promise.all([startPutEventsServer(), httpServer(), httpsServer(), tcpServer()]);
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = events.url;
  process.env.AWS_ACCESS_KEY_ID = creds.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
});
afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([events.close(), web.close(), secure.close(), tcp.close()]);
});
afterEach(() => { uninstall(); events.events.length = 0; });

const ENV = { AWS_LAMBDA_FUNCTION_NAME: 'orders-api', AWS_REGION: 'us-east-1', WARDEN_ACCOUNT_ID: '123456789012' };

function start(mode: 'block' | 'monitor' | 'learn', p: FakePolicyOptions, extra: Partial<InstallOptions> = {}) {
  const agent = install({ env: { ...ENV, WARDEN_MODE: mode }, policy: fakePolicy(p), ...extra });
  patchClientClass(smithyClient.Client);
  return agent;
}

async function delivered(): Promise<AccessEvent[]> {
  await flush();
  return events.events.map((e) => AccessEventSchema.parse(e.detail));
}

const hostsOf = (evs: AccessEvent[]) => evs.map((e) => `${e.access.kind} ${e.access.host}:${e.access.port} ${e.agentVerdict}${e.blocked ? ' blocked' : ''}`);

describe('http / https', () => {
  it('http.request: allowed goes through and is reported once', async () => {
    start('block', { allowHosts: ['127.0.0.1'] });
    const before = web.hits();
    expect(await request(http, { host: '127.0.0.1', port: web.port, path: '/a', method: 'POST' }, 'x')).toEqual({ status: 200 });
    expect(web.hits()).toBe(before + 1);
    expect(hostsOf(await delivered())).toEqual([`http 127.0.0.1:${web.port} allow`]);
  });

  it('http.request: blocked in block mode with AccessDeniedByPolicy, nothing reaches the server', async () => {
    start('block', { allowHosts: ['example.org'] });
    const before = web.hits();
    const err = await request(http, { host: '127.0.0.1', port: web.port, path: '/secret', method: 'POST' }, 'payload').catch((e: Error) => e);
    expect(err).toBeInstanceOf(AccessDeniedByPolicy);
    expect((err as Error).name).toBe('AccessDeniedByPolicy');
    expect(web.hits()).toBe(before);
    expect(hostsOf(await delivered())).toEqual([`http 127.0.0.1:${web.port} unlisted blocked`]);
  });

  it('http.get with an URL string: blocked and allowed', async () => {
    start('block', { allowHosts: ['localhost'] });
    await expect(get(http, `http://127.0.0.1:${web.port}/x`)).rejects.toMatchObject({ name: 'AccessDeniedByPolicy' });
    expect(await get(http, `http://localhost:${web.port}/x`)).toMatchObject({ status: 200 });
    expect(hostsOf(await delivered()).sort()).toEqual([`http 127.0.0.1:${web.port} unlisted blocked`, `http localhost:${web.port} allow`]);
  });

  it('https.request and https.get: the host as the code named it, blocked before the TLS handshake', async () => {
    start('block', { allowHosts: ['localhost'], denyHosts: ['127.0.0.1'] });
    const before = secure.hits();
    expect(await get(https, `https://localhost:${secure.port}/ok`, { ca: TLS.cert })).toMatchObject({ status: 200 });
    await expect(request(https, { host: '127.0.0.1', port: secure.port, ca: TLS.cert })).rejects.toMatchObject({ name: 'AccessDeniedByPolicy', verdict: 'deny', rule: 'deny-127.0.0.1' });
    await expect(get(https, `https://127.0.0.1:${secure.port}/no`, { ca: TLS.cert })).rejects.toMatchObject({ name: 'AccessDeniedByPolicy' });
    expect(secure.hits()).toBe(before + 1);
    const evs = await delivered();
    expect(hostsOf(evs).sort()).toEqual([`http 127.0.0.1:${secure.port} deny blocked`, `http localhost:${secure.port} allow`]);
    expect(evs.find((e) => e.blocked)!.count).toBe(2);
  });

  it('reports the address actually connected to for a host name', async () => {
    start('block', { allowHosts: ['localhost'] }).beginInvocation(); // reported at the end, once connected
    await get(http, `http://localhost:${web.port}/x`, { agent: new http.Agent({ keepAlive: false }) });
    await new Promise<void>((resolve, reject) => { const s = net.connect(tcp.port, 'localhost', () => { s.destroy(); resolve(); }); s.on('error', reject); });
    const evs = await delivered();
    expect(evs.map((e) => [e.access.kind, e.access.host, e.access.address]).sort()).toEqual([['http', 'localhost', '127.0.0.1'], ['tcp', 'localhost', '127.0.0.1']]);
  });

  it('monitor mode never changes what the caller sees, but reports the violation', async () => {
    start('monitor', { allowHosts: ['example.org'] });
    expect(await get(http, `http://127.0.0.1:${web.port}/x`)).toMatchObject({ status: 200 });
    const evs = await delivered();
    expect(hostsOf(evs)).toEqual([`http 127.0.0.1:${web.port} unlisted`]);
    expect(evs[0]).toMatchObject({ mode: 'monitor', blocked: false });
  });

  it('learn mode records only', async () => {
    start('learn', { allowHosts: ['example.org'] });
    expect(await get(http, `http://127.0.0.1:${web.port}/x`)).toMatchObject({ status: 200 });
    expect((await delivered())[0]).toMatchObject({ mode: 'learn', blocked: false });
  });

  it('an http request is not reported again by the socket catch-all', async () => {
    start('monitor', {});
    for (let i = 0; i < 3; i++) await get(http, `http://127.0.0.1:${web.port}/x`, { agent: new http.Agent({ keepAlive: false }) });
    const evs = await delivered();
    expect(hostsOf(evs)).toEqual([`http 127.0.0.1:${web.port} allow`]);
  });
});

describe('fetch', () => {
  it('allowed fetch goes through and is reported', async () => {
    start('block', { allowHosts: ['127.0.0.1'] });
    const res = await fetch(`http://127.0.0.1:${web.port}/f`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(200);
    await res.text();
    expect(hostsOf(await delivered())).toEqual([`http 127.0.0.1:${web.port} allow`]);
  });

  it('blocked fetch rejects like a network failure, with AccessDeniedByPolicy as the cause', async () => {
    start('block', { allowHosts: ['example.org'] });
    const before = web.hits();
    const err = await fetch(new URL(`http://127.0.0.1:${web.port}/f`)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as TypeError).message).toBe('fetch failed');
    expect((err as Error & { cause: Error }).cause.name).toBe('AccessDeniedByPolicy');
    expect(web.hits()).toBe(before);
    await expect(fetch(new Request(`http://127.0.0.1:${web.port}/g`))).rejects.toThrow('fetch failed');
    const evs = await delivered();
    expect(hostsOf(evs)).toEqual([`http 127.0.0.1:${web.port} unlisted blocked`]);
    expect(evs[0]!.count).toBe(2);
  });

  it('decides the host the URL parser reads, not a look-alike after a backslash or in the path', async () => {
    start('block', { allowHosts: ['example.org'] });
    const before = web.hits();
    // WHATWG: "\" ends the authority of http URLs, so this goes to 127.0.0.1, not example.org
    await expect(fetch(`http://127.0.0.1:${web.port}\\@example.org/`)).rejects.toThrow('fetch failed');
    await expect(get(http, `http://127.0.0.1:${web.port}\\@example.org/`)).rejects.toMatchObject({ name: 'AccessDeniedByPolicy' });
    await expect(fetch(`http://127.0.0.1:${web.port}/@example.org`)).rejects.toThrow('fetch failed');
    expect(web.hits()).toBe(before);
    const evs = await delivered();
    expect(hostsOf(evs)).toEqual([`http 127.0.0.1:${web.port} unlisted blocked`]);
    expect(evs[0]!.count).toBe(3);
  });

  it('a fetch through a reference taken before install is still enforced by the socket catch-all', async () => {
    const early = globalThis.fetch;
    const fresh = await httpServer(); // no pooled keep-alive connection to it yet
    start('block', { allowHosts: ['example.org'] });
    const err = await early(`http://127.0.0.1:${fresh.port}/early`).catch((e: Error) => e);
    await fresh.close();
    expect((err as Error).name).toBe('TypeError'); // the realm of the original fetch, not jest's
    // undici rebuilds the socket error as a plain Error, keeping name and message in its message
    expect(((err as Error).cause as Error).message).toMatch(/^AccessDeniedByPolicy: Warden blocked tcp 127\.0\.0\.1/);
    expect(fresh.hits()).toBe(0);
    expect(hostsOf(await delivered())).toEqual([`tcp 127.0.0.1:${fresh.port} unlisted blocked`]);
  });
});

describe('net / tls catch-all', () => {
  function connect(make: () => net.Socket): Promise<'connected' | Error> {
    return new Promise((resolve) => {
      const s = make();
      s.once('connect', () => { s.destroy(); resolve('connected'); });
      s.once('secureConnect', () => { s.destroy(); resolve('connected'); });
      s.once('error', (e) => resolve(e));
    });
  }

  it('net.connect: allowed and blocked (the socket errors with AccessDeniedByPolicy, no connection is made)', async () => {
    start('block', { allowHosts: ['localhost'] });
    const before = tcp.hits();
    expect(await connect(() => net.connect(tcp.port, 'localhost'))).toBe('connected');
    const err = await connect(() => net.connect({ host: '127.0.0.1', port: tcp.port }));
    expect(err).toBeInstanceOf(AccessDeniedByPolicy);
    await new Promise((r) => setTimeout(r, 20));
    expect(tcp.hits()).toBe(before + 1);
    expect(hostsOf(await delivered()).sort()).toEqual([`tcp 127.0.0.1:${tcp.port} unlisted blocked`, `tcp localhost:${tcp.port} allow`]);
  });

  it('new net.Socket().connect and tls.connect are captured too', async () => {
    start('block', { allowHosts: ['example.org'] });
    expect(await connect(() => new net.Socket().connect(tcp.port, '127.0.0.1'))).toBeInstanceOf(AccessDeniedByPolicy);
    expect(await connect(() => tls.connect({ host: 'localhost', port: secure.port, ca: TLS.cert }))).toBeInstanceOf(AccessDeniedByPolicy);
    const evs = await delivered();
    expect(hostsOf(evs).sort()).toEqual([`tcp 127.0.0.1:${tcp.port} unlisted blocked`, `tcp localhost:${secure.port} unlisted blocked`]);
    expect(evs.find((e) => e.access.host === '127.0.0.1')!.access.address).toBe('127.0.0.1');
  });

  it('unix sockets are not network access', async () => {
    start('block', { allowHosts: ['example.org'] });
    const err = await connect(() => net.connect('/nonexistent/warden.sock'));
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(await delivered()).toEqual([]);
  });

  it('the Lambda Runtime API is never captured', async () => {
    start('block', { allowHosts: ['example.org'] }, { env: { ...ENV, WARDEN_MODE: 'block', AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${web.port}` } });
    expect(await get(http, `http://127.0.0.1:${web.port}/2018-06-01/runtime/invocation/next`)).toMatchObject({ status: 200 });
    expect(await delivered()).toEqual([]);
  });
});

const hasWardenMiddleware = (c: { middlewareStack: { identify(): string[] } }) => c.middlewareStack.identify().some((n) => n.startsWith('wardenAccessMiddleware'));

describe('exempt endpoints, remembered per endpoint', () => {
  it('follows every change of the exempt set, also one made without the epoch (another copy of the agent)', () => {
    const mark = {};
    expect(isExempt('a.example:443', mark)).toBe(false);
    addExempt('a.example:443');
    expect(isExempt('a.example:443', mark)).toBe(true);
    clearExempt();
    expect(isExempt('a.example:443', mark)).toBe(false);
    state().exempt.add('a.example:443'); // no epoch bump: the size still changed
    expect(isExempt('a.example:443', mark)).toBe(true);
    state().exempt.clear();
    expect(isExempt('a.example:443', mark)).toBe(false);
  });

  it('an endpoint made exempt after it was decided is no longer captured', async () => {
    start('block', { allowHosts: ['example.org'] });
    const url = `http://127.0.0.1:${web.port}/x`;
    await expect(get(http, url)).rejects.toMatchObject({ name: 'AccessDeniedByPolicy' });
    addExempt(`127.0.0.1:${web.port}`);
    expect(await get(http, url)).toMatchObject({ status: 200 });
  });
});

describe('covered endpoints across installs', () => {
  it('an endpoint decided by the http hook is covered again after an uninstall and a new install (no second, tcp, report)', async () => {
    const url = `http://127.0.0.1:${web.port}/x`;
    start('monitor', { allowHosts: ['example.org'] });
    await get(http, url, { agent: false });
    await flush();
    uninstall();
    events.events.length = 0;
    start('monitor', { allowHosts: ['example.org'] });
    await get(http, url, { agent: false }); // a new connection: the socket hook sees it and must know the http hook decided it
    expect(hostsOf(await delivered())).toEqual([`http 127.0.0.1:${web.port} unlisted`]);
  });
});

describe('AWS SDK v3', () => {
  const ddb = () => new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${web.port}`, credentials: creds, maxAttempts: 1 });

  it('captures service, operation and resource ARN; one event per call, no duplicate http/tcp event', async () => {
    start('block', { allowAws: ['dynamodb:PutItem'] });
    const client = ddb();
    for (let i = 0; i < 3; i++) await client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: String(i) } } }));
    const evs = await delivered();
    expect(evs).toHaveLength(1);
    expect(evs[0]!.access).toEqual({ kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders', host: '127.0.0.1', port: web.port });
    expect(evs[0]).toMatchObject({ agentVerdict: 'allow', blocked: false, count: 1 });
  });

  it('blocks a denied call before anything is sent', async () => {
    start('block', { allowAws: ['dynamodb:PutItem'] });
    const before = web.hits();
    const err = await ddb().send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(AccessDeniedByPolicy);
    expect((err as AccessDeniedByPolicy).access).toMatchObject({ service: 'dynamodb', action: 'GetItem' });
    expect(web.hits()).toBe(before);
    expect(hostsOf(await delivered())).toEqual([`aws 127.0.0.1:${web.port} unlisted blocked`]);
  });

  it('captures clients created before the agent was installed', async () => {
    const early = new SQSClient({ region: 'eu-west-1', endpoint: `http://127.0.0.1:${web.port}`, credentials: creds, maxAttempts: 1 });
    start('monitor', { allowAws: ['sqs:ReceiveMessage'] });
    await early.send(new SendMessageCommand({ QueueUrl: `http://127.0.0.1:${web.port}/111122223333/jobs`, MessageBody: 'x' })).catch(() => undefined);
    const evs = await delivered();
    expect(evs.map((e) => e.access.resource)).toEqual(['arn:aws:sqs:eu-west-1:111122223333:jobs']);
    expect(evs[0]).toMatchObject({ agentVerdict: 'unlisted', blocked: false });
  });

  it('per-client caches follow the account learned later, and each table and operation keeps its own resource', async () => {
    const { WARDEN_ACCOUNT_ID: _unused, ...noAccount } = ENV;
    const agent = install({ env: { ...noAccount, WARDEN_MODE: 'block' }, policy: fakePolicy({ allowAws: ['dynamodb:*'] }) });
    patchClientClass(smithyClient.Client);
    const client = ddb();
    await client.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } }));
    agent.setFunctionArn('arn:aws:lambda:us-east-1:123456789012:function:orders-api'); // first invocation's context
    await client.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } }));
    await client.send(new GetItemCommand({ TableName: 'users', Key: { id: { S: '1' } } }));
    await client.send(new PutItemCommand({ TableName: 'users', Item: { id: { S: '1' } } }));
    const evs = await delivered();
    expect(evs.map((e) => `${e.access.action} ${e.access.resource}`).sort()).toEqual([
      'GetItem arn:aws:dynamodb:us-east-1:123456789012:table/orders',
      'GetItem arn:aws:dynamodb:us-east-1:123456789012:table/users',
      'GetItem arn:aws:dynamodb:us-east-1::table/orders',
      'PutItem arn:aws:dynamodb:us-east-1:123456789012:table/users',
    ]);
  });

  it('decides at the request handler, with the host the request goes to: a deny on that host blocks the call unsent', async () => {
    start('block', { allowAws: ['dynamodb:*'], denyHosts: ['127.0.0.1'] });
    const before = web.hits();
    const client = ddb();
    const err = await client.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(AccessDeniedByPolicy);
    expect(web.hits()).toBe(before);
    expect(hasWardenMiddleware(client)).toBe(false); // nothing added to the client's middleware stack
    const evs = await delivered();
    expect(evs.map((e) => [e.access.kind, e.access.action, e.access.host, e.agentVerdict, e.blocked])).toEqual([['aws', 'GetItem', '127.0.0.1', 'deny', true]]);
  });

  it('a blocked call is not retried by the SDK (one attempt, one occurrence)', async () => {
    start('block', { allowAws: ['dynamodb:PutItem'] });
    const client = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${web.port}`, credentials: creds, maxAttempts: 3 });
    const err = await client.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(AccessDeniedByPolicy);
    expect((err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1).toBe(1);
    const evs = await delivered();
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ count: 1, blocked: true });
  });

  it("callback-style sends and the caller's own options: decided the same, the caller's options object untouched", async () => {
    start('block', { allowAws: ['dynamodb:PutItem'] });
    const client = ddb();
    const viaCallback = await new Promise<unknown>((resolve) => client.send(new GetItemCommand({ TableName: 'a', Key: { id: { S: '1' } } }), (err: unknown) => resolve(err)));
    expect(viaCallback).toBeInstanceOf(AccessDeniedByPolicy);
    const opts = { requestTimeout: 5_000 };
    const withOptions = await new Promise<unknown>((resolve) => client.send(new GetItemCommand({ TableName: 'b', Key: { id: { S: '1' } } }), opts, (err: unknown) => resolve(err)));
    expect(withOptions).toBeInstanceOf(AccessDeniedByPolicy);
    await client.send(new PutItemCommand({ TableName: 'c', Item: { id: { S: '1' } } }), opts);
    expect(Object.getOwnPropertySymbols(opts)).toEqual([]);
    expect(Object.keys(opts)).toEqual(['requestTimeout']);
    const evs = await delivered();
    expect(evs.map((e) => `${e.access.action} ${e.access.resource?.split('/').pop()} ${e.blocked}`).sort()).toEqual(['GetItem a true', 'GetItem b true', 'PutItem c false']);
  });

  it('clients that cache their middleware, and commands without an operation schema, are decided by the middleware instead', async () => {
    start('block', { allowAws: ['dynamodb:PutItem'] });
    const cached = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${web.port}`, credentials: creds, maxAttempts: 1, cacheMiddleware: true });
    const before = web.hits();
    await expect(cached.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } }))).rejects.toBeInstanceOf(AccessDeniedByPolicy);
    expect(web.hits()).toBe(before);
    await cached.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: '1' } } }));
    // an older SDK's command: no schema to read the operation name from
    const old = ddb();
    const legacy = new GetItemCommand({ TableName: 'legacy', Key: { id: { S: '1' } } });
    (legacy as unknown as { schema: unknown }).schema = undefined;
    await expect(old.send(legacy)).rejects.toBeInstanceOf(AccessDeniedByPolicy);
    await old.send(new PutItemCommand({ TableName: 'legacy', Item: { id: { S: '1' } } })); // same client, now through the middleware: decided once
    expect([hasWardenMiddleware(cached), hasWardenMiddleware(old)]).toEqual([true, true]);
    const evs = await delivered();
    expect(evs.map((e) => `${e.access.action} ${e.access.resource?.split('/').pop()} ${e.blocked} ${e.count}`).sort()).toEqual([
      'GetItem legacy true 1', 'GetItem orders true 1', 'PutItem legacy false 1', 'PutItem orders false 1',
    ]);
  });

  it('one request handler shared by clients of two services: each call is decided as its own service', async () => {
    start('monitor', { allowAws: ['dynamodb:*'] });
    const shared = new NodeHttpHandler();
    const a = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${web.port}`, credentials: creds, maxAttempts: 1, requestHandler: shared });
    const b = new SQSClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${web.port}`, credentials: creds, maxAttempts: 1, requestHandler: shared });
    await a.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } }));
    await b.send(new SendMessageCommand({ QueueUrl: `http://127.0.0.1:${web.port}/123456789012/jobs`, MessageBody: 'x' })).catch(() => undefined);
    const evs = await delivered();
    expect(evs.map((e) => `${e.access.kind} ${e.access.service} ${e.access.action} ${e.agentVerdict}`).sort()).toEqual(['aws dynamodb GetItem allow', 'aws sqs SendMessage unlisted']);
    shared.destroy();
  });

  it('repeats of the last call are counted on its record; a policy swap, another table or another endpoint is decided afresh', async () => {
    const agent = start('block', { allowAws: ['dynamodb:*'] });
    const client = ddb();
    const get = (t: string) => client.send(new GetItemCommand({ TableName: t, Key: { id: { S: '1' } } }));
    for (let i = 0; i < 5; i++) await get('orders');
    await get('users');
    await get('orders');
    const other = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://localhost:${web.port}`, credentials: creds, maxAttempts: 1 });
    await other.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } }));
    agent.setPolicy(fakePolicy({ allowAws: ['dynamodb:PutItem'] })); // a verified refresh: GetItem no longer allowed
    const before = web.hits();
    await expect(get('orders')).rejects.toBeInstanceOf(AccessDeniedByPolicy);
    await expect(get('orders')).rejects.toBeInstanceOf(AccessDeniedByPolicy);
    expect(web.hits()).toBe(before);
    // (a first occurrence outside an invocation is reported on its own, promptly: sum the counts)
    const totals = new Map<string, number>();
    for (const e of await delivered()) { const k = `${e.access.resource?.split('/').pop()} ${e.access.host} ${e.agentVerdict}`; totals.set(k, (totals.get(k) ?? 0) + e.count); }
    expect(Object.fromEntries([...totals].sort())).toEqual({
      'orders 127.0.0.1 allow': 6, 'orders 127.0.0.1 unlisted': 2, 'orders localhost allow': 1, 'users 127.0.0.1 allow': 1,
    });
  });

  it("never captures or blocks the agent's own PutEvents, even when everything else is denied", async () => {
    start('block', { allowHosts: ['example.org'] });
    await ddb().send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } })).catch(() => undefined);
    const evs = await delivered();
    expect(evs).toHaveLength(1);
    expect(evs.every((e) => e.access.service !== 'events')).toBe(true);
  });
});

describe('withWarden', () => {
  it('flushes violations before the result is returned', async () => {
    const handler = withWarden(async (_e: unknown, _c: unknown) => {
      await get(http, `http://127.0.0.1:${web.port}/x`);
      return 'done';
    }, { env: { ...ENV, WARDEN_MODE: 'monitor' }, policy: fakePolicy({ allowHosts: ['example.org'] }) });
    expect(await handler({}, { invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders-api' })).toBe('done');
    expect(events.events).toHaveLength(1);
  });

  it('a handler that throws still flushes, and the error reaches the caller unchanged', async () => {
    const handler = withWarden(async () => {
      await get(http, `http://127.0.0.1:${web.port}/x`);
    }, { env: { ...ENV, WARDEN_MODE: 'block' }, policy: fakePolicy({ allowHosts: ['example.org'] }) });
    await expect(handler({}, {})).rejects.toMatchObject({ name: 'AccessDeniedByPolicy' });
    expect(events.events).toHaveLength(1);
    expect(events.events[0]!.detail).toMatchObject({ blocked: true, agentVerdict: 'unlisted' });
  });

  it('supports callback-style handlers', async () => {
    const handler = withWarden((_e: unknown, _c: unknown, cb?: (err?: unknown, r?: string) => void) => {
      void get(http, `http://127.0.0.1:${web.port}/x`).then(() => cb!(null, 'cb-done'));
    }, { env: { ...ENV, WARDEN_MODE: 'monitor' }, policy: fakePolicy({ allowHosts: ['example.org'] }) });
    expect(await handler({}, {})).toBe('cb-done');
    expect(events.events).toHaveLength(1);
  });

  it('1,000 warm invocations repeating the same allowed access emit one event', async () => {
    const handler = withWarden(async () => { await get(http, `http://127.0.0.1:${web.port}/x`); }, { env: { ...ENV, WARDEN_MODE: 'block' }, policy: fakePolicy({ allowHosts: ['127.0.0.1'] }) });
    for (let i = 0; i < 1000; i++) await handler({}, {});
    expect(events.events).toHaveLength(1);
  });

  it('fails closed without a policy in block mode, and says why in one log line', async () => {
    const logs: string[] = [];
    const handler = withWarden(async () => get(http, `http://127.0.0.1:${web.port}/x`), { env: { ...ENV, WARDEN_POLICY: '/nonexistent/policy.json' }, log: (l) => logs.push(l), loadPolicy: () => { throw new Error('ENOENT'); } });
    await expect(handler({}, {})).rejects.toMatchObject({ name: 'AccessDeniedByPolicy', rule: 'warden:policy-unavailable' });
    expect(JSON.parse(logs[0]!)).toMatchObject({ level: 'ERROR', consequence: 'failing closed: every access is denied' });
    expect(logs[0]).toContain('/nonexistent/policy.json');
  });

  it('fails open with WARDEN_FAIL_OPEN=true and reports each fail-open decision', async () => {
    const handler = withWarden(async () => get(http, `http://127.0.0.1:${web.port}/x`), { env: { ...ENV, WARDEN_FAIL_OPEN: 'true' }, log: () => undefined });
    expect(await handler({}, {})).toMatchObject({ status: 200 });
    expect(events.events[0]!.detail).toMatchObject({ failOpen: true, blocked: false, agentVerdict: 'deny' });
  });

  it('bad configuration fails the invocation with a clear error', async () => {
    const handler = withWarden(async () => 'never', { env: { ...ENV, WARDEN_MODE: 'enforce' } });
    await expect(handler({}, {})).rejects.toThrow(/WARDEN_MODE must be one of monitor, block, learn/);
  });
});
