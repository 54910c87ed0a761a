/**
 * The agent layer as infra ships it (infra/agent-layer.ts): self-contained (the processes here get
 * no NODE_PATH to the repository's node_modules), split so that a cold start loads only the agent,
 * the EventBridge client loaded from the package's private copy at the first flush, and the policy
 * store's own file loaded only when WARDEN_POLICY_STORE is set.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_LAYER_PACKAGE, AGENT_LAYER_REGISTER, writeAgentLayer } from '../../infra/agent-layer';
import { compilePolicy, loadRulesFromFiles, toBundle } from '../../engine/policy';
import { startPutEventsServer, type PutEventsServer } from '../../engine/local/putevents-server';
import type { AccessEvent } from '../../engine/events/access-event';
import { httpServer, type LocalServer } from './servers';

let dir: string;
let layer: string;
let events: PutEventsServer;
let web: LocalServer;

const RULES = `functions: [orders-api]
mode: block
allow:
  - host: localhost
`;

const HANDLER = `
const http = require('node:http');
const outcome = (p) => p.then(() => 'ok', (e) => (e.cause ? e.cause.name || e.cause.message : e.name));
const get = (url) => new Promise((res, rej) => http.get(url, (r) => { r.resume(); r.on('end', res); }).on('error', rej));
exports.handler = async () => ({
  httpAllowed: await outcome(get('http://localhost:' + process.env.WEB_PORT + '/a')),
  fetchBlocked: await outcome(fetch('http://127.0.0.1:' + process.env.WEB_PORT + '/c')),
});
`;

/** The Lambda runtime, reduced: load the handler, invoke once, report, exit at once. */
const FAKE_RUNTIME = `
const { resolve } = require('node:path');
const [mod, fn] = process.env._HANDLER.split(/\\.(?=[^.]+$)/);
Promise.resolve(require(resolve(process.env.LAMBDA_TASK_ROOT, mod))[fn]({}, {}))
  .then((r) => { process.stdout.write(JSON.stringify(r)); process.exit(0); }, (e) => { process.stdout.write(JSON.stringify({ error: e.name })); process.exit(0); });
`;

/** Right after the agent loaded (cold start done): which of the layer's files were loaded. */
const LOADED = `
setTimeout(() => {
  const files = Object.keys(require.cache).map((f) => f.replace(process.env.LAYER + '/', ''));
  process.stdout.write(JSON.stringify(files.filter((f) => !f.startsWith('/')).sort()));
}, 100);
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-layer-'));
  layer = join(dir, 'layer');
  writeAgentLayer(layer);
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(toBundle(compilePolicy(loadRulesFromFiles([{ path: 'functions/orders-api.yaml', text: RULES }])))));
  mkdirSync(join(dir, 'task'));
  writeFileSync(join(dir, 'task/index.js'), HANDLER);
  writeFileSync(join(dir, 'runtime.js'), FAKE_RUNTIME);
  writeFileSync(join(dir, 'loaded.js'), LOADED);
  mkdirSync(join(dir, 'store'));
  [events, web] = await Promise.all([startPutEventsServer(), httpServer()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([events?.close(), web?.close()]);
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => { events.events.length = 0; });

function run(script: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    execFile(process.execPath, [join(dir, script)], {
      // Lambda's working directory is the task root (here: not this repository, whose package.json
      // is also named warden and would resolve `warden/agent/register` to its own dist/)
      cwd: join(dir, 'task'),
      env: {
        PATH: process.env.PATH ?? '',
        // as Lambda loads a layer: /opt/nodejs/node_modules on NODE_PATH, nothing of this repository
        NODE_PATH: join(layer, 'nodejs', 'node_modules'), NODE_OPTIONS: '--require warden/agent/register', LAYER: join(layer, AGENT_LAYER_PACKAGE),
        LAMBDA_TASK_ROOT: join(dir, 'task'), _HANDLER: 'index.handler',
        AWS_LAMBDA_FUNCTION_NAME: 'orders-api', AWS_REGION: 'us-east-1', WARDEN_POLICY: join(dir, 'policy.json'),
        AWS_ENDPOINT_URL_EVENTBRIDGE: events.url, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret',
        WEB_PORT: String(web.port), AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1', ...env,
      },
      timeout: 30_000,
    }, (err, stdout, stderr) => (err ? rej(Object.assign(err, { stderr })) : res({ stdout, stderr })));
  });
}

describe('agent layer (infra/agent-layer.ts)', () => {
  it('a cold start loads the agent file only', async () => {
    const { stdout, stderr } = await run('loaded.js', { _HANDLER: '' });
    expect(JSON.parse(stdout)).toEqual(['dist/agent-register.js']);
    expect(stderr).toBe('');
    // the agent alone: neither the EventBridge client nor the policy store (zod, S3 client; > 1 MB together) is in it
    const size = statSync(join(layer, AGENT_LAYER_REGISTER)).size;
    expect(size).toBeLessThan(150_000);
    expect(statSync(join(layer, AGENT_LAYER_PACKAGE, 'node_modules/@aws-sdk/client-eventbridge/index.js')).size).toBeGreaterThan(size);
  });

  it('decides, blocks, and flushes through its own EventBridge client before the invocation returns', async () => {
    const { stdout, stderr } = await run('runtime.js');
    expect(JSON.parse(stdout)).toEqual({ httpAllowed: 'ok', fetchBlocked: 'AccessDeniedByPolicy' });
    const evs = events.events.map((e) => e.detail as AccessEvent);
    expect(evs.map((e) => `${e.access.host} ${e.agentVerdict}${e.blocked ? ' blocked' : ''}`).sort()).toEqual(['127.0.0.1 unlisted blocked', 'localhost allow']);
    expect(stderr).not.toMatch(/"level":"ERROR"/);
  });

  it('WARDEN_POLICY_STORE loads the policy store file (which then reports what it needs)', async () => {
    const { stdout, stderr } = await run('loaded.js', { _HANDLER: '', WARDEN_POLICY_STORE: join(dir, 'store') });
    expect(JSON.parse(stdout)).toEqual(['dist/agent-policy-store.js', 'dist/agent-register.js']);
    expect(stderr).toMatch(/policy store not used, enforcing the packaged policy: .*WARDEN_POLICY_PUBLIC_KEY/);
  });

  it('a layer without the policy store file says what is missing and enforces the packaged policy', async () => {
    const file = join(layer, AGENT_LAYER_REGISTER, '..', 'agent-policy-store.js');
    renameSync(file, `${file}.away`);
    try {
      const { stdout, stderr } = await run('runtime.js', { WARDEN_POLICY_STORE: join(dir, 'store') });
      expect(JSON.parse(stdout)).toEqual({ httpAllowed: 'ok', fetchBlocked: 'AccessDeniedByPolicy' });
      expect(stderr).toMatch(/policy store not used, enforcing the packaged policy: .*agent-policy-store\.js is missing: ship agent-policy-store\.js/);
    } finally {
      renameSync(`${file}.away`, file);
    }
  });
});
