/**
 * CIDR rules hold on the address a name resolves to (DNS rebinding: `metadata.attacker.example` →
 * a denied range), for every capture path, before any byte is sent. Real local servers; names are
 * resolved by a custom `lookup` (or `localhost`), never by the network; the policy is the real compiler.
 */
import type dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AccessEvent } from '../../engine/events/access-event';
import { AccessEventSchema } from '../../engine/events/access-event';
import { AccessDeniedByPolicy, flush, install, uninstall } from '../../engine/agent';
import { configFromEnv } from '../../engine/agent/config';
import { AgentCore } from '../../engine/agent/core';
import { guardLookup } from '../../engine/agent/capture/net';
import { patchClientClass } from '../../engine/agent/capture/sdk';
import { compilePolicy, loadRulesFromFiles } from '../../engine/policy';
import type { Mode } from '../../engine/events/access-event';
import { startPutEventsServer, type PutEventsServer } from '../../engine/local/putevents-server';
import { get, httpServer, httpsServer, request, tcpServer, TLS, type LocalServer } from './servers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const smithyClient = require('@smithy/core/client') as { Client: unknown };

const REBOUND = 'metadata.attacker.example';
const creds = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
const savedEnv = { ...process.env };
let events: PutEventsServer;
let web: LocalServer;
let secure: LocalServer;
let tcp: LocalServer;

beforeAll(async () => {
  [events, web, secure, tcp] = await Promise.all([startPutEventsServer(), httpServer(), httpsServer(), tcpServer()]);
  // the agent's own endpoint by name, so it meets the lookup guard too (and must stay exempt)
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = events.url.replace('127.0.0.1', 'localhost');
  process.env.AWS_ACCESS_KEY_ID = creds.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
});
afterAll(async () => {
  process.env = savedEnv;
  await Promise.all([events.close(), web.close(), secure.close(), tcp.close()]);
});
afterEach(() => { uninstall(); events.events.length = 0; });

const ENV = { AWS_LAMBDA_FUNCTION_NAME: 'orders-api', AWS_REGION: 'us-east-1', WARDEN_ACCOUNT_ID: '123456789012' };
const LOOPBACK_DENY = ['127.0.0.0/8', '::1/128'];

/** A deny-list-only policy (names are allowed) with global CIDR denies. */
function start(mode: Mode, denyCidrs: string[], extraFunctionRules = '') {
  const global = `deny:\n${denyCidrs.map((c, i) => `  - id: cidr-${i}\n    cidr: "${c}"\n    severity: critical\n`).join('')}`;
  const policy = compilePolicy(loadRulesFromFiles([
    { path: 'global.yaml', text: global },
    { path: 'functions/orders-api.yaml', text: `functions: [orders-api]\nmode: ${mode}\n${extraFunctionRules}` },
  ]));
  const agent = install({ env: ENV, policy });
  patchClientClass(smithyClient.Client);
  return agent;
}

/** Resolves every name to `addresses` (what a rebinding DNS answer would say). */
function lookupTo(...addresses: string[]) {
  const calls: string[] = [];
  const fn = (hostname: string, options: dns.LookupOptions, cb: (...a: unknown[]) => void) => {
    calls.push(hostname);
    const all = addresses.map((address) => ({ address, family: net.isIP(address) }));
    if (options.all) cb(null, all); else cb(null, all[0]!.address, all[0]!.family);
  };
  return Object.assign(fn as unknown as net.LookupFunction, { calls });
}

async function delivered(): Promise<AccessEvent[]> {
  await flush();
  return events.events.map((e) => AccessEventSchema.parse(e.detail));
}

const violations = (evs: AccessEvent[]) => evs.filter((e) => e.agentVerdict !== 'allow')
  .map((e) => `${e.access.kind} ${e.access.host}=${e.access.address}:${e.access.port} ${e.agentVerdict}${e.blocked ? ' blocked' : ''}`);

function connect(make: () => net.Socket): Promise<Error | 'connected'> {
  return new Promise((resolve) => {
    const s = make();
    s.once('connect', () => { s.destroy(); resolve('connected'); });
    s.once('secureConnect', () => { s.destroy(); resolve('connected'); });
    s.once('error', (e) => resolve(e));
  });
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('block mode: a name resolving to a denied range is blocked before any byte is sent', () => {
  it('http.request', async () => {
    start('block', LOOPBACK_DENY);
    const before = web.hits();
    const err = await request(http, { host: REBOUND, port: web.port, path: '/latest/meta-data/', lookup: lookupTo('127.0.0.1') }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(AccessDeniedByPolicy);
    expect(err).toMatchObject({ verdict: 'deny', rule: 'cidr-0', access: { kind: 'tcp', host: REBOUND, address: '127.0.0.1', port: web.port } });
    expect(web.hits()).toBe(before);
    expect(violations(await delivered())).toEqual([`tcp ${REBOUND}=127.0.0.1:${web.port} deny blocked`]);
  });

  it('http.get and https.get (URL string and options)', async () => {
    start('block', LOOPBACK_DENY);
    const [h, s] = [web.hits(), secure.hits()];
    await expect(get(http, `http://${REBOUND}:${web.port}/x`, { lookup: lookupTo('127.0.0.1') })).rejects.toMatchObject({ name: 'AccessDeniedByPolicy' });
    await expect(get(https, `https://${REBOUND}:${secure.port}/x`, { lookup: lookupTo('127.0.0.1'), ca: TLS.cert, servername: 'localhost' })).rejects.toMatchObject({ name: 'AccessDeniedByPolicy' });
    expect([web.hits(), secure.hits()]).toEqual([h, s]);
    expect(violations(await delivered()).sort()).toEqual([`tcp ${REBOUND}=127.0.0.1:${secure.port} deny blocked`, `tcp ${REBOUND}=127.0.0.1:${web.port} deny blocked`].sort());
  });

  it('fetch (system resolver: localhost → loopback)', async () => {
    start('block', LOOPBACK_DENY);
    const before = web.hits();
    const err = await fetch(`http://localhost:${web.port}/f`, { method: 'POST', body: 'secret' }).catch((e: Error) => e);
    expect((err as Error).name).toBe('TypeError'); // undici's own realm: compare by name
    // undici rebuilds a socket error from another realm (jest's) as a plain Error keeping name and message
    expect(((err as Error).cause as Error).message).toMatch(/^AccessDeniedByPolicy: Warden blocked tcp localhost:\d+ .* deny rule "cidr-\d"/);
    expect(web.hits()).toBe(before);
    const v = violations(await delivered());
    expect(v.length).toBeGreaterThanOrEqual(1);
    for (const line of v) expect(line).toMatch(new RegExp(`^tcp localhost=(127\\.0\\.0\\.1|::1):${web.port} deny blocked$`));
  });

  it('net.connect and tls.connect', async () => {
    start('block', LOOPBACK_DENY);
    const [t, s] = [tcp.hits(), secure.hits()];
    expect(await connect(() => net.connect({ host: REBOUND, port: tcp.port, lookup: lookupTo('127.0.0.1') }))).toBeInstanceOf(AccessDeniedByPolicy);
    expect(await connect(() => new net.Socket().connect({ host: REBOUND, port: tcp.port, lookup: lookupTo('127.0.0.1') }))).toBeInstanceOf(AccessDeniedByPolicy);
    expect(await connect(() => tls.connect({ host: REBOUND, port: secure.port, lookup: lookupTo('127.0.0.1'), ca: TLS.cert, servername: 'localhost' }))).toBeInstanceOf(AccessDeniedByPolicy);
    await settle();
    expect([tcp.hits(), secure.hits()]).toEqual([t, s]);
    const evs = await delivered();
    expect(violations(evs).sort()).toEqual([`tcp ${REBOUND}=127.0.0.1:${secure.port} deny blocked`, `tcp ${REBOUND}=127.0.0.1:${tcp.port} deny blocked`].sort());
    expect(evs.find((e) => e.access.port === tcp.port && e.access.address)!.count).toBe(2);
  });

  it('the AWS SDK (endpoint host by name)', async () => {
    start('block', LOOPBACK_DENY);
    const before = web.hits();
    const client = new DynamoDBClient({ region: 'us-east-1', endpoint: `http://localhost:${web.port}`, credentials: creds, maxAttempts: 1 });
    const err = await client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: '1' } } })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('AccessDeniedByPolicy');
    expect(web.hits()).toBe(before);
    const evs = await delivered();
    expect(evs.filter((e) => e.access.kind === 'aws').map((e) => e.agentVerdict)).toEqual(['allow']);
    expect(violations(evs).length).toBeGreaterThanOrEqual(1);
  });

  it('numeric spellings of a denied address are blocked too', async () => {
    start('block', LOOPBACK_DENY);
    const before = tcp.hits();
    for (const host of ['2130706433', '0x7f000001', '127.1']) {
      expect(await connect(() => net.connect({ host, port: tcp.port }))).toBeInstanceOf(AccessDeniedByPolicy);
    }
    await settle();
    expect(tcp.hits()).toBe(before);
    // the policy reads these spellings as addresses, so the name itself is denied (the lookup check is the second line)
    expect(violations(await delivered()).sort()).toEqual(['0x7f000001', '127.1', '2130706433'].map((h) => `tcp ${h}=undefined:${tcp.port} deny blocked`));
  });

  it('with several answers (all: true) a denied address is dropped and an allowed one is used', async () => {
    start('block', ['10.0.0.0/8']).beginInvocation(); // reported at the end, once connected
    const before = web.hits();
    expect(await request(http, { host: REBOUND, port: web.port, lookup: lookupTo('10.1.2.3', '127.0.0.1'), agent: new http.Agent({ keepAlive: false }) })).toEqual({ status: 200 });
    expect(web.hits()).toBe(before + 1);
    const evs = await delivered();
    expect(violations(evs)).toEqual([`tcp ${REBOUND}=10.1.2.3:${web.port} deny blocked`]);
    expect(evs.find((e) => e.access.kind === 'http')).toMatchObject({ agentVerdict: 'allow', access: { host: REBOUND, address: '127.0.0.1' } });
  });
});

describe('allowed addresses, monitor mode, exemptions', () => {
  it('a name resolving to an address no rule denies goes through; the event carries the address', async () => {
    start('block', ['169.254.169.254/32', 'fd00:ec2::254/128']).beginInvocation();
    const lookup = lookupTo('127.0.0.1');
    expect(await request(http, { host: REBOUND, port: web.port, lookup, agent: new http.Agent({ keepAlive: false }) })).toEqual({ status: 200 });
    expect(await connect(() => net.connect({ host: REBOUND, port: tcp.port, lookup }))).toBe('connected');
    expect(lookup.calls).toEqual([REBOUND, REBOUND]);
    const evs = await delivered();
    expect(evs.map((e) => [e.access.kind, e.access.host, e.access.address, e.agentVerdict]).sort()).toEqual([['http', REBOUND, '127.0.0.1', 'allow'], ['tcp', REBOUND, '127.0.0.1', 'allow']]);
  });

  it('monitor mode never changes what the caller sees, but reports the denied address', async () => {
    start('monitor', LOOPBACK_DENY).beginInvocation(); // reported at the end, once connected
    const before = web.hits();
    expect(await request(http, { host: REBOUND, port: web.port, lookup: lookupTo('127.0.0.1'), agent: new http.Agent({ keepAlive: false }) })).toEqual({ status: 200 });
    expect(web.hits()).toBe(before + 1);
    const evs = await delivered();
    expect(violations(evs)).toEqual([`tcp ${REBOUND}=127.0.0.1:${web.port} deny`]);
    expect(evs.find((e) => e.agentVerdict === 'deny')).toMatchObject({ mode: 'monitor', blocked: false });
    // the denied address is reported once, by its deny event; the name's event does not repeat it
    expect(evs.find((e) => e.access.kind === 'http')).toMatchObject({ agentVerdict: 'allow', access: { host: REBOUND } });
    expect(evs.find((e) => e.access.kind === 'http')!.access.address).toBeUndefined();
  });

  it('one decision per address and port, not one per connection', async () => {
    const agent = start('block', ['10.0.0.0/8']);
    const lookup = lookupTo('127.0.0.1');
    for (let i = 0; i < 3; i++) expect(await connect(() => net.connect({ host: REBOUND, port: tcp.port, lookup }))).toBe('connected');
    const decisions = agent.stats.decisions;
    expect(await connect(() => net.connect({ host: REBOUND, port: tcp.port, lookup }))).toBe('connected');
    expect(agent.stats.decisions).toBe(decisions);
  });

  it("the agent's own PutEvents endpoint (by name, on a denied range) is never checked or blocked", async () => {
    start('block', LOOPBACK_DENY);
    await request(http, { host: REBOUND, port: web.port, lookup: lookupTo('127.0.0.1') }).catch(() => undefined);
    const evs = await delivered(); // delivered through http://localhost:<port> despite the loopback deny
    expect(violations(evs)).toEqual([`tcp ${REBOUND}=127.0.0.1:${web.port} deny blocked`]);
    expect(evs.some((e) => e.access.service === 'events' || e.access.port === Number(new URL(events.url).port))).toBe(false);
  });
});

describe('guardLookup', () => {
  it('a lookup option that is not a function is left for net to reject', async () => {
    start('block', LOOPBACK_DENY);
    expect(() => net.connect({ host: REBOUND, port: tcp.port, lookup: 'nope' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it('passes resolver errors and allowed answers through unchanged, and fails when every answer is denied', async () => {
    start('block', ['10.0.0.0/8']);
    const call = (l: net.LookupFunction, all: boolean) => new Promise<unknown[]>((resolve) => {
      guardLookup(l as never, REBOUND, 80)(REBOUND, { all }, (...a: unknown[]) => resolve(a));
    });
    const failing = ((_h: string, _o: unknown, cb: (e: Error) => void) => cb(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }))) as unknown as net.LookupFunction;
    expect((await call(failing, false))[0]).toMatchObject({ code: 'ENOTFOUND' });
    expect(await call(lookupTo('127.0.0.1'), false)).toEqual([null, '127.0.0.1', 4]);
    expect(await call(lookupTo('127.0.0.1', '::1'), true)).toEqual([null, [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }], undefined]);
    const [err, rest] = await call(lookupTo('10.0.0.1', '10.9.9.9'), true);
    expect(err).toBeInstanceOf(AccessDeniedByPolicy);
    expect(rest).toBeUndefined();
    expect((await call(lookupTo('10.0.0.1'), false))[0]).toBeInstanceOf(AccessDeniedByPolicy);
  });
});

describe('AgentCore.deniesAddress', () => {
  function core(decide: (address: string | undefined) => 'deny' | 'allow' | 'unlisted') {
    let now = Date.parse('2026-11-23T18:00:00.000Z');
    const logs: string[] = [];
    const policy = {
      policyVersion: 'sha256:0000000000000001', calls: 0,
      modeFor: () => 'block' as const,
      decide(_fn: unknown, a: { address?: string }) { policy.calls++; return { verdict: decide(a.address), rule: 'r', severity: 'high' as const }; },
    };
    const c = new AgentCore({ config: configFromEnv(ENV), policy, sink: { send: async () => ({ sent: 0, logged: 0 }) }, clock: () => now, log: (l) => logs.push(l) });
    return { c, policy, logs, advance: (ms: number) => { now += ms; } };
  }

  it('only a deny counts (unlisted is judged on the name), cached per address and port until the TTL', () => {
    const { c, policy, advance } = core((a) => (a === '169.254.169.254' ? 'deny' : a === '10.0.0.1' ? 'unlisted' : 'allow'));
    expect([c.deniesAddress('169.254.169.254', 80), c.deniesAddress('10.0.0.1', 80), c.deniesAddress('127.0.0.1', 80)]).toEqual([true, false, false]);
    expect(c.deniesAddress('169.254.169.254', 80)).toBe(true);
    expect(policy.calls).toBe(3);
    c.deniesAddress('169.254.169.254', 443);
    expect(policy.calls).toBe(4);
    advance(61_000);
    c.deniesAddress('169.254.169.254', 80);
    expect(policy.calls).toBe(5);
  });

  it('decides again under a refreshed policy', () => {
    let deny = false;
    const { c, policy } = core(() => (deny ? 'deny' : 'allow'));
    expect(c.deniesAddress('10.1.1.1', 80)).toBe(false);
    deny = true;
    expect(c.deniesAddress('10.1.1.1', 80)).toBe(false); // cached
    c.setPolicy(policy);
    expect(c.deniesAddress('10.1.1.1', 80)).toBe(true);
  });

  it('a decide() that throws denies the address (fail closed) and says so', () => {
    const { c, logs } = core(() => { throw new Error('boom'); });
    expect(c.deniesAddress('10.1.1.1', 80)).toBe(true);
    expect(c.stats.decideErrors).toBe(1);
    expect(logs.join('\n')).toMatch(/resolved address; deciding deny/);
  });
});
