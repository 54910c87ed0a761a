/**
 * The zero-code path: a fresh `node` process started with NODE_OPTIONS="--require <built register>",
 * a real compiled bundle, a real DynamoDB client loaded after the agent (found by the loader hook),
 * and a stand-in for the Lambda runtime that loads the handler named by _HANDLER and exits as soon
 * as the handler returns — so events arrive only if they were flushed before the return.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { compilePolicy, loadRulesFromFiles, toBundle } from '../../engine/policy';
import { parseHandlerString, wrapExport } from '../../engine/agent/handler-wrap';
import { startPutEventsServer, type PutEventsServer } from '../../engine/local/putevents-server';
import type { AccessEvent } from '../../engine/events/access-event';
import { httpServer, tcpServer, type LocalServer } from './servers';

const ROOT = resolve(__dirname, '../..');
let dir: string;
let events: PutEventsServer;
let web: LocalServer;
let tcp: LocalServer;

const RULES = `functions: [orders-api]
mode: block
allow:
  - host: localhost
  - aws: "dynamodb:PutItem"
    resource: "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
`;

const HANDLER = `
const http = require('node:http');
const net = require('node:net');
const { DynamoDBClient, PutItemCommand, GetItemCommand } = require('@aws-sdk/client-dynamodb');
const ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://localhost:' + process.env.WEB_PORT, maxAttempts: 1 });
const outcome = (p) => p.then(() => 'ok', (e) => (e.cause ? e.cause.name || e.cause.message : e.name));
const get = (url) => new Promise((res, rej) => http.get(url, (r) => { r.resume(); r.on('end', res); }).on('error', rej));
const connect = (port, host) => new Promise((res, rej) => net.connect(port, host).on('connect', function () { this.destroy(); res(); }).on('error', rej));
exports.handler = async (event, context) => ({
  httpAllowed: await outcome(get('http://localhost:' + process.env.WEB_PORT + '/a')),
  httpBlocked: await outcome(get('http://127.0.0.1:' + process.env.WEB_PORT + '/b')),
  fetchBlocked: await outcome(fetch('http://127.0.0.1:' + process.env.WEB_PORT + '/c')),
  sdkAllowed: await outcome(ddb.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: '1' } } }))),
  sdkBlocked: await outcome(ddb.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } }))),
  tcpBlocked: await outcome(connect(process.env.TCP_PORT, '127.0.0.1')),
});
`;

const ESM_HANDLER = `
import http from 'node:http';
export const handler = async () => new Promise((res) => http.get('http://127.0.0.1:' + process.env.WEB_PORT + '/esm', () => res('reached')).on('error', (e) => res(e.name)));
`;

/** What the Lambda runtime does, reduced: load the handler module, invoke once, exit at once. */
const FAKE_RUNTIME = `
const { resolve } = require('node:path');
const [mod, fn] = process.env._HANDLER.split(/\\.(?=[^.]+$)/);
const file = mod.startsWith('/') ? mod : resolve(process.env.LAMBDA_TASK_ROOT, mod);
Promise.resolve(require(file)[fn]({}, { invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders-api' }))
  .then((r) => { process.stdout.write(JSON.stringify(r)); process.exit(0); }, (e) => { process.stdout.write(JSON.stringify({ error: e.name })); process.exit(0); });
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-register-'));
  buildSync({ entryPoints: [join(ROOT, 'engine/agent/register.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', outfile: join(dir, 'agent-register.js'), logLevel: 'warning' });
  const policy = compilePolicy(loadRulesFromFiles([{ path: 'functions/orders-api.yaml', text: RULES }]));
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(toBundle(policy)));
  mkdirSync(join(dir, 'task'));
  writeFileSync(join(dir, 'task/index.js'), HANDLER);
  writeFileSync(join(dir, 'task/esm.mjs'), ESM_HANDLER);
  writeFileSync(join(dir, 'runtime.js'), FAKE_RUNTIME);
  [events, web, tcp] = await Promise.all([startPutEventsServer(), httpServer(), tcpServer()]);
});
afterAll(async () => {
  await Promise.all([events.close(), web.close(), tcp.close()]);
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => { events.events.length = 0; });

function runLambda(env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    execFile(process.execPath, [join(dir, 'runtime.js')], {
      env: {
        PATH: process.env.PATH, NODE_PATH: join(ROOT, 'node_modules'),
        NODE_OPTIONS: `--require ${join(dir, 'agent-register.js')}`,
        LAMBDA_TASK_ROOT: join(dir, 'task'), _HANDLER: 'index.handler',
        AWS_LAMBDA_FUNCTION_NAME: 'orders-api', AWS_REGION: 'us-east-1', WARDEN_POLICY: join(dir, 'policy.json'),
        AWS_ENDPOINT_URL_EVENTBRIDGE: events.url, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret',
        WEB_PORT: String(web.port), TCP_PORT: String(tcp.port), AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1', ...env,
      },
      timeout: 30_000,
    }, (err, stdout, stderr) => (err ? rej(Object.assign(err, { stderr })) : res({ stdout, stderr })));
  });
}

const summary = (evs: AccessEvent[]) => evs.map((e) => `${e.access.kind}:${e.access.service ?? ''}${e.access.action ? `:${e.access.action}` : ''} ${e.access.host}:${e.access.port} ${e.agentVerdict}${e.blocked ? ' blocked' : ''}`).sort();

describe('zero-code: node --require warden/agent/register', () => {
  it('captures, decides against the real bundle, blocks, and flushes before the invocation returns', async () => {
    const { stdout, stderr } = await runLambda({});
    expect(JSON.parse(stdout)).toEqual({ httpAllowed: 'ok', httpBlocked: 'AccessDeniedByPolicy', fetchBlocked: 'AccessDeniedByPolicy', sdkAllowed: 'ok', sdkBlocked: 'AccessDeniedByPolicy', tcpBlocked: 'AccessDeniedByPolicy' });
    const evs = events.events.map((e) => e.detail as AccessEvent);
    expect(summary(evs)).toEqual([
      `aws:dynamodb:GetItem localhost:${web.port} unlisted blocked`,
      `aws:dynamodb:PutItem localhost:${web.port} allow`,
      `http: 127.0.0.1:${web.port} unlisted blocked`,
      `http: localhost:${web.port} allow`,
      `tcp: 127.0.0.1:${tcp.port} unlisted blocked`,
    ]);
    expect(evs.find((e) => e.access.action === 'PutItem')!.access.resource).toBe('arn:aws:dynamodb:us-east-1:123456789012:table/orders');
    expect(evs.every((e) => e.mode === 'block' && /^sha256:/.test(e.policyVersion!) && e.function.account === '123456789012')).toBe(true);
    expect(stderr).not.toMatch(/"level":"ERROR"/);
  });

  it('monitor mode (WARDEN_MODE) changes nothing the code sees', async () => {
    const { stdout } = await runLambda({ WARDEN_MODE: 'monitor' });
    expect(Object.values(JSON.parse(stdout))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    const violations = events.events.map((e) => e.detail as AccessEvent).filter((e) => e.agentVerdict === 'unlisted');
    // http.get and fetch to the same endpoint are one access (count 2); the SDK call and the socket are the others
    expect(violations.map((e) => [e.access.kind, e.count, e.blocked])).toEqual([['http', 2, false], ['aws', 1, false], ['tcp', 1, false]]);
  });

  it('an ESM handler through the handler redirect (WARDEN_HANDLER)', async () => {
    const { stdout } = await runLambda({ _HANDLER: join(dir, 'agent-register.handler'), WARDEN_HANDLER: 'esm.handler' });
    expect(JSON.parse(stdout)).toBe('AccessDeniedByPolicy');
    expect(summary(events.events.map((e) => e.detail as AccessEvent))).toEqual([`http: 127.0.0.1:${web.port} unlisted blocked`]);
  });

  it('an unreadable bundle fails closed in block mode and says so', async () => {
    const { stdout, stderr } = await runLambda({ WARDEN_POLICY: join(dir, 'missing.json') });
    expect(JSON.parse(stdout).httpAllowed).toBe('AccessDeniedByPolicy');
    expect(stderr).toMatch(/cannot read bundle .*missing\.json.*failing closed/);
  });

  it('bad configuration stops the process at start with a clear message', async () => {
    await expect(runLambda({ WARDEN_MODE: 'enforce' })).rejects.toMatchObject({ stderr: expect.stringMatching(/WARDEN_MODE must be one of monitor, block, learn/) });
  });
});

describe('register helpers', () => {
  it('parses the Lambda handler string', () => {
    expect(parseHandlerString('src/app.handler', '/var/task')).toEqual({ modulePath: '/var/task/src/app', exportName: 'handler' });
    expect(parseHandlerString('/opt/x/agent-register.handler', '/var/task')).toEqual({ modulePath: '/opt/x/agent-register', exportName: 'handler' });
    expect(() => parseHandlerString('nohandler', '/var/task')).toThrow(/expected "<module path>.<export name>"/);
  });

  it('wraps a read-only (bundler getter) export without touching the others', () => {
    const exportsObj = {};
    const original = async () => 'x';
    Object.defineProperty(exportsObj, 'handler', { get: () => original, enumerable: true });
    Object.defineProperty(exportsObj, 'other', { value: 1, enumerable: true });
    const wrapped = wrapExport(exportsObj, 'handler', (fn) => Object.assign((...a: never[]) => fn(...a), { wrapped: true })) as Record<string, unknown>;
    expect((wrapped.handler as { wrapped?: boolean }).wrapped).toBe(true);
    expect(wrapped.other).toBe(1);
    expect(wrapExport(exportsObj, 'missing', (fn) => fn)).toBe(exportsObj);
  });
});
