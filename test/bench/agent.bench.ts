/**
 * Agent bench. Overheads are the same call to a local server (another process) with the agent's
 * hooks off and on, in many short interleaved blocks with a null check (see `interleaved`). Event counts come
 * from the real PutEvents path (local endpoint). Cold start and heap are measured in a fresh `node`
 * process that requires the built agent and installs it with a 10,000-entry bundle.
 */
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { buildSync } from 'esbuild';
import { install, uninstall, withWarden } from '../../engine/agent';
import { state } from '../../engine/agent/capture/state';
import { compilePolicy, loadRulesFromFiles, toBundle } from '../../engine/policy';
import { startPutEventsServer } from '../../engine/local/putevents-server';
import { AGENT_LAYER_REGISTER, writeAgentLayer } from '../../infra/agent-layer';
import { buildFixture } from './decide-fixture';
import type { BenchOptions } from './main';

const ROOT = resolve(__dirname, '../..');
const RULES = `functions: [bench-fn]
mode: block
allow:
  - host: 127.0.0.1
  - aws: "dynamodb:*"
    resource: "arn:aws:dynamodb:us-east-1:123456789012:table/*"
`;
const ENV = { AWS_LAMBDA_FUNCTION_NAME: 'bench-fn', AWS_REGION: 'us-east-1', WARDEN_ACCOUNT_ID: '123456789012' };
const creds = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'secret' };

const p50 = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

/** Median of `xs` with its distribution-free 95% confidence interval (order statistics, binomial). */
export function medianCI(xs: number[]): { p50: number; lo: number; hi: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { p50: NaN, lo: NaN, hi: NaN, n };
  const mid = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  // ranks n/2 ± 1.96·√n/2: the interval holds the true median with ≥ 95 % probability, whatever the distribution
  const k = Math.max(0, Math.floor(n / 2 - 0.98 * Math.sqrt(n)));
  return { p50: mid, lo: s[k]!, hi: s[n - 1 - k]!, n };
}

/** One side of the comparison: `enter` puts the process in that state (untimed), `call` is the timed call. */
export interface Arm { enter(): void; call(): Promise<unknown> }
type Stat = ReturnType<typeof medianCI>;
export interface Comparison { overhead: Stat; nullCheck: Stat; wall: Stat; offCpuUs: number; cycles: number; perBlock: number }

// every order of (off, on, null), used in turn: no arm always runs first, after a given arm, or at a given GC phase
const ORDERS = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [2, 1, 0], [1, 0, 2]] as const;

/**
 * Interleaved blocks: each cycle runs `perBlock` calls in each of three states — off (no hooks), on
 * (every capture installed) and null (the same toggling, but no capture left installed) — in one of
 * the six orders, in turn. Per cycle, the differences on − off and null − off of the process CPU time
 * per call; the figures are their medians with a 95 % interval. `null` must come out ≈ 0: its interval
 * is the noise floor of this run. CPU time rather than wall: on a shared machine the wall time of a
 * block includes whatever else the cores ran meanwhile, while the process CPU time counts only this
 * process (every thread: GC and libuv work the agent causes are counted). The local server runs in
 * another process, so its work is in neither side. Wall differences are reported alongside.
 */
export async function interleaved(arms: readonly [Arm, Arm, Arm], o: { cycles: number; perBlock: number; maxMs: number }): Promise<Comparison> {
  const { perBlock } = o;
  for (let w = 0; w < 3; w++) for (const a of arms) { a.enter(); for (let i = 0; i < perBlock * 4; i++) await a.call(); } // JIT, sockets
  const onDiff: number[] = [], nullDiff: number[] = [], wallDiff: number[] = [], offCpu: number[] = [];
  const cpu = [0, 0, 0], wall = [0, 0, 0];
  const t0 = Date.now();
  let c = 0;
  for (; c < o.cycles; c++) {
    if (c >= 30 && Date.now() - t0 > o.maxMs) break; // a busy machine: fewer cycles, reported as such
    for (const a of ORDERS[c % ORDERS.length]!) {
      const arm = arms[a]!;
      arm.enter();
      const w0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      for (let i = 0; i < perBlock; i++) await arm.call();
      const u = process.cpuUsage(c0);
      wall[a] = Number(process.hrtime.bigint() - w0) / 1000 / perBlock;
      cpu[a] = (u.user + u.system) / perBlock;
    }
    onDiff.push(cpu[1]! - cpu[0]!);
    nullDiff.push(cpu[2]! - cpu[0]!);
    wallDiff.push(wall[1]! - wall[0]!);
    offCpu.push(cpu[0]!);
  }
  arms[0].enter();
  return { overhead: medianCI(onDiff), nullCheck: medianCI(nullDiff), wall: medianCI(wallDiff), offCpuUs: p50(offCpu), cycles: c, perBlock };
}

/** A local HTTP server in a child process, so that its CPU time is not in this process's figures. */
export async function startServerProcess(): Promise<{ port: number; close(): void }> {
  const script = `const http = require('node:http');
    const s = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}')); });
    s.keepAliveTimeout = 600000;
    s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
    process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((res, rej) => {
    child.once('error', rej);
    child.once('exit', (code) => rej(new Error(`bench server exited with ${code}`)));
    child.stdout.once('data', (d: Buffer) => res(Number(String(d).trim())));
  });
  return { port, close: () => { child.stdin.end(); child.kill(); } };
}

const fmt = (s: Stat) => `${s.p50.toFixed(2)} µs [${s.lo.toFixed(2)}, ${s.hi.toFixed(2)}]`;

export async function bench(opts: BenchOptions): Promise<Record<string, number | string | boolean>> {
  const out: Record<string, number | string | boolean> = {};
  const server = await startServerProcess();
  const port = server.port;
  const events = await startPutEventsServer();
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_EVENTBRIDGE: events.url, AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1' });
  const policy = compilePolicy(loadRulesFromFiles([{ path: 'functions/bench-fn.yaml', text: RULES }]));
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = `http://127.0.0.1:${port}/x`;
  const mkClient = () => new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: creds, maxAttempts: 1 });
  // one client per arm: the off and null clients are never instrumented
  const clients = [mkClient(), mkClient(), mkClient()] as const;
  const cmd = new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } });
  const httpGet = () => new Promise<void>((res, rej) => { http.get(url, { agent: keepAlive }, (r) => { r.resume(); r.on('end', res); }).on('error', rej); });
  try {
    // One agent for the whole comparison, inside one invocation as in a handler (its flush comes
    // after the handler returns, not on the call path). Every capture is installed once, as
    // `install()` does, and stays installed: patching a prototype (SDK Client.prototype.send,
    // net.Socket.prototype.connect) invalidates V8's prototype-chain checks and deoptimizes the
    // code that relied on them, so re-installing per block would measure re-optimization, not
    // the agent. The arms differ only in plain fields: which function the module slots
    // (http/https `request`/`get`, global `fetch`) hold, whether the agent is attached, and which
    // `send` the SDK call goes through.
    // The agent as it ships (the `npm run build` bundle, what a Lambda function loads), not the
    // sources through tsx, whose every cross-module reference is a getter call on a module object.
    // Built inside node_modules so that its external packages resolve from this repository.
    uninstall();
    const built = join(ROOT, 'node_modules', '.cache', 'warden-bench-agent');
    buildAgent(built);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const shipped = require(join(built, 'agent.js')) as typeof import('../../engine/agent');
    const originals = { http: { request: http.request, get: http.get }, https: { request: https.request, get: https.get }, fetch: globalThis.fetch };
    const agent = shipped.install({ env: ENV, policy });
    agent.beginInvocation();
    const s = state();
    const hooked = { http: { request: http.request, get: http.get }, https: { request: https.request, get: https.get }, fetch: globalThis.fetch };
    const originalSend = (Object.getPrototypeOf(DynamoDBClient.prototype) as Record<symbol, unknown>)[Symbol.for('warden.agent.sdkPatched')] as ((this: DynamoDBClient, c: unknown) => Promise<unknown>) | undefined;
    if (typeof originalSend !== 'function' || hooked.http.get === originals.http.get || hooked.fetch === originals.fetch) throw new Error('agent bench: the captures did not install');
    const slots = (which: typeof originals) => {
      Object.assign(http, which.http); Object.assign(https, which.https); globalThis.fetch = which.fetch;
    };
    const enter = [
      () => { slots(originals); s.agent = undefined; }, // off: the module functions themselves, the SDK's own send, no agent
      () => { slots(hooked); s.agent = agent; }, // on: every capture in place, the agent deciding
      () => { slots(originals); s.agent = undefined; }, // null: the off state again, on its own client
    ];
    const armsOf = (call: (arm: number) => Promise<unknown>) => [0, 1, 2].map((i) => ({ enter: enter[i]!, call: () => call(i) })) as unknown as readonly [Arm, Arm, Arm];
    const plans = {
      http: { call: () => httpGet(), perBlock: 20, cycles: opts.quick ? 300 : 1200 },
      fetch: { call: async () => { const r = await fetch(url); await r.arrayBuffer(); }, perBlock: 10, cycles: opts.quick ? 300 : 1200 },
      // the off and null clients are never instrumented: their calls go through the SDK's own send
      // an SDK call costs ~3× an http.get and varies more: more cycles and time for a comparable interval
      sdk: { call: (arm: number) => (arm === 1 ? clients[1].send(cmd) : originalSend.call(clients[arm]!, cmd)), perBlock: 4, cycles: opts.quick ? 300 : 3000, maxMs: 45_000 },
    };
    for (const [name, plan] of Object.entries(plans)) {
      const r = await interleaved(armsOf(plan.call), { cycles: plan.cycles, perBlock: plan.perBlock, maxMs: opts.quick ? 4_000 : ('maxMs' in plan ? plan.maxMs : 30_000) });
      out[`agent.${name}_overhead_us_p50`] = r.overhead.p50;
      out[`agent.${name}_overhead_us_ci95_lo`] = r.overhead.lo;
      out[`agent.${name}_overhead_us_ci95_hi`] = r.overhead.hi;
      out[`agent.${name}_null_us_p50`] = r.nullCheck.p50;
      out[`agent.${name}_null_us_ci95_lo`] = r.nullCheck.lo;
      out[`agent.${name}_null_us_ci95_hi`] = r.nullCheck.hi;
      out[`agent.${name}_call_cpu_us`] = r.offCpuUs;
      opts.log(`  ${name.padEnd(5)} CPU/call off ${r.offCpuUs.toFixed(1)} µs; added ${fmt(r.overhead)}; null check ${fmt(r.nullCheck)}; wall added ${fmt(r.wall)} (${r.cycles} cycles × ${r.perBlock} calls)`);
    }
    // Where the agent's own CPU goes, in place: a sampling profile of the same calls with the agent on
    for (const [name, plan] of Object.entries(plans)) {
      enter[1]!();
      const p = await agentSelfTime(() => plan.call(1), join(built, 'agent.js'), opts.quick ? 3_000 : 15_000);
      out[`agent.${name}_agent_self_us`] = p.selfUs;
      out[`agent.${name}_agent_self_samples`] = p.samples;
      opts.log(`  ${name.padEnd(5)} agent's own code in a CPU profile: ${p.selfUs.toFixed(2)} µs per call (${p.samples} of ${p.total} samples, ${p.calls} calls); most: ${p.top.map(([f, us]) => `${f} ${us.toFixed(2)}`).join(', ')}`);
    }
    slots(hooked);
    s.agent = agent;
    await agent.endInvocation();
    uninstall();
    // CPU of the hot path alone (cached decision + aggregation), without any I/O around it
    const core = install({ env: ENV, policy });
    const access = { kind: 'http' as const, host: '127.0.0.1', port };
    const batches: number[] = [];
    for (let b = 0; b < 50; b++) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < 10_000; i++) core.observe(access);
      const c = process.cpuUsage(c0);
      batches.push(((c.user + c.system) * 1000) / 10_000);
    }
    out['agent.observe_ns_p50'] = p50(batches);
    opts.log(`  observe (cached decision + count): ${p50(batches).toFixed(0)} ns CPU`);

    // CPU added by the http and fetch hooks alone: the hook wraps a stub instead of the real call
    out['agent.http_hook_ns_p50'] = hookOnly('http', policy);
    out['agent.fetch_hook_ns_p50'] = hookOnly('fetch', policy);
    opts.log(`  hook alone (stubbed call): http ${out['agent.http_hook_ns_p50'].toFixed(0)} ns, fetch ${out['agent.fetch_hook_ns_p50'].toFixed(0)} ns CPU`);

    // events for 10,000 identical calls in one invocation
    events.events.length = 0;
    uninstall();
    const many = withWarden(async () => { for (let i = 0; i < 10_000; i++) await httpGet(); }, { env: ENV, policy });
    await many({}, {});
    out['agent.events_per_10k_identical_calls'] = events.events.length;

    // events for 1,000 warm invocations repeating the same allowed accesses (http + SDK)
    events.events.length = 0;
    uninstall();
    const warm = withWarden(async () => { await httpGet(); await clients[1].send(cmd); }, { env: ENV, policy });
    for (let i = 0; i < 1000; i++) await warm({}, {});
    out['agent.events_per_1k_warm_invocations'] = events.events.length;
    out['agent.distinct_accesses_per_invocation'] = 2;
    uninstall();
  } finally {
    uninstall();
    process.env = saved;
    keepAlive.destroy();
    for (const c of clients) c.destroy();
    server.close();
    await events.close();
  }

  Object.assign(out, coldStart(opts));
  return out;
}

/**
 * The CPU time per call spent in the agent's own functions (and the builtins they call), from a V8
 * sampling profile of `call` repeated for `ms`: each sample whose innermost JavaScript frame is in
 * `file` counts. It is an upper bound of the agent's direct cost — the entry into the wrapped
 * function (an SDK handler is an async function) is counted to the wrapper calling it — and it
 * leaves out what the agent costs indirectly (caches it evicts), which only the interleaved
 * comparison sees. Its use: far less noise than that comparison, and it says which function costs.
 */
export async function agentSelfTime(call: () => Promise<unknown>, file: string, ms: number): Promise<{ selfUs: number; samples: number; total: number; calls: number; top: Array<[string, number]> }> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
    const c0 = process.cpuUsage();
    const t0 = Date.now();
    let calls = 0;
    while (Date.now() - t0 < ms) { for (let i = 0; i < 20; i++) await call(); calls += 20; }
    const u = process.cpuUsage(c0);
    const { profile } = await session.post('Profiler.stop');
    const parent = new Map<number, number>();
    const byId = new Map<number, (typeof profile.nodes)[number]>();
    for (const n of profile.nodes) { byId.set(n.id, n); for (const ch of n.children ?? []) parent.set(ch, n.id); }
    const perNode = new Map<number, number>();
    for (const id of profile.samples ?? []) perNode.set(id, (perNode.get(id) ?? 0) + 1);
    const total = profile.samples?.length ?? 0;
    let samples = 0;
    const byFn = new Map<string, number>();
    for (const [id, c] of perNode) {
      // the innermost frame with a script: builtins and natives count to the function calling them
      let cur: number | undefined = id;
      while (cur !== undefined && !byId.get(cur)!.callFrame.url) cur = parent.get(cur);
      const f = cur === undefined ? undefined : byId.get(cur)!.callFrame;
      if (f === undefined || !f.url.endsWith(file)) continue;
      samples += c;
      byFn.set(f.functionName || '(anonymous)', (byFn.get(f.functionName || '(anonymous)') ?? 0) + c);
    }
    const cpuPerCall = (u.user + u.system) / calls;
    const us = (n: number) => (total === 0 ? NaN : (n / total) * cpuPerCall);
    const top = [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([f, n]) => [f, us(n)] as [string, number]);
    return { selfUs: us(samples), samples, total, calls, top };
  } finally {
    session.disconnect();
  }
}

/** CPU per call of one capture hook wrapped around a stub (no I/O): what the agent adds to the call path. */
function hookOnly(which: 'http' | 'fetch', policy: ReturnType<typeof compilePolicy>): number {
  uninstall();
  const g = globalThis as { fetch: unknown };
  const h = http as unknown as { get: unknown };
  const saved = which === 'http' ? h.get : g.fetch;
  const stub = () => null;
  if (which === 'http') h.get = stub; else g.fetch = stub;
  try {
    install({ env: ENV, policy, captures: [which] }).beginInvocation();
    const call = (which === 'http' ? h.get : g.fetch) as (u: string, o?: object) => unknown;
    const url = 'http://127.0.0.1:8080/orders?id=1';
    const opt = {};
    const batches: number[] = [];
    for (let b = 0; b < 30; b++) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < 20_000; i++) call(url, opt);
      const c = process.cpuUsage(c0);
      batches.push(((c.user + c.system) * 1000) / 20_000);
    }
    return p50(batches);
  } finally {
    uninstall();
    if (which === 'http') h.get = saved; else g.fetch = saved;
  }
}

/** The same build as `npm run build` for the agent entries (the policy store is a file of its own), into `dir`. */
function buildAgent(dir: string): void {
  buildSync({
    entryPoints: { agent: join(ROOT, 'engine/agent/index.ts'), 'agent-policy-store': join(ROOT, 'engine/agent/policy-store.ts') },
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', define: { WARDEN_AGENT_SPLIT: 'true' }, outdir: dir, logLevel: 'warning',
  });
}

/** An access the decide fixture allows for its first function (svc-000-api): the first decision after install. */
const FIRST_ACCESS = { kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/t-0-0' };

/**
 * Fresh processes: require the built agent, install it with a 10k-entry bundle; time and heap added.
 * Two builds: `dist/agent.js` as `npm run build` makes it (`require('warden/agent')` + install), and
 * the agent layer as infra ships it (infra/agent-layer.ts: `--require warden/agent/register`, which
 * installs as it loads — what a protected Lambda function pays).
 */
export function coldStart(opts: BenchOptions): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-agent-bench-'));
  try {
    const fixture = buildFixture(100, 100, 0);
    const bundle = toBundle(compilePolicy(fixture.repo));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(bundle));
    buildAgent(dir);
    writeAgentLayer(join(dir, 'layer'));
    // split: require (module loading) and install (config, bundle read, hooks); whether zod got loaded;
    // whether the agent read only its function's part through the bundle index (a fallback logs a WARN).
    // Then, outside the cold-start figure but reported: the first decision, which indexes the
    // function's lists (lazy), and the heap after it (the agent with its policy in use).
    // Timed without --expose-gc: any V8 flag changes the flag hash and Node then rejects its built-in code
    // cache, compiling node:net/http/https from source (~30 ms here) — a cost no Lambda pays. Heap: own runs.
    // Run as a script file, as Lambda loads the agent (`node -e` preloads node:crypto and node:stream).
    const script = (layer: boolean) => `
      const collect = typeof global.gc === 'function' ? global.gc : () => undefined;
      collect(); const h0 = process.memoryUsage().heapUsed;
      const t0 = process.hrtime.bigint(); const c0 = process.cpuUsage();
      const agent = require(${JSON.stringify(layer ? join(dir, 'layer', AGENT_LAYER_REGISTER) : join(dir, 'agent.js'))});
      const t1 = process.hrtime.bigint(); const c1 = process.cpuUsage(c0);
      const logs = [];
      const core = ${layer ? "globalThis[Symbol.for('warden.agent.state')].agent" : 'agent.install({ log: (l) => logs.push(l) })'};
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const c = process.cpuUsage(c0);
      if (!core || !core.policyVersion) throw new Error('policy not loaded: ' + (core && core.policyError));
      const t2 = process.hrtime.bigint(); const c2 = process.cpuUsage();
      const rec = core.observe(${JSON.stringify(FIRST_ACCESS)});
      const firstMs = Number(process.hrtime.bigint() - t2) / 1e6; const c3 = process.cpuUsage(c2);
      if (rec.verdict !== 'allow') throw new Error('first decision: ' + rec.verdict + ' ' + rec.rule);
      const zod = Object.keys(require.cache).some((f) => /[\\/]node_modules[\\/]zod[\\/]/.test(f)) ? 1 : 0;
      const indexed = logs.some((l) => l.includes('read in full')) ? 0 : 1;
      collect(); const mb = (process.memoryUsage().heapUsed - h0) / 1048576;
      // exit at once: the first decision scheduled a flush, which must not try to reach AWS
      process.stdout.write(JSON.stringify({ ms, mb, cpu: (c.user + c.system) / 1000, requireMs: Number(t1 - t0) / 1e6, requireCpu: (c1.user + c1.system) / 1000, zod, indexed, firstMs, firstCpu: (c3.user + c3.system) / 1000 }), () => process.exit(0));`;
    writeFileSync(join(dir, 'npm.js'), script(false));
    writeFileSync(join(dir, 'layer.js'), script(true));
    const runs = opts.quick ? 5 : 11;
    type Run = { ms: number; mb: number; cpu: number; requireMs: number; requireCpu: number; zod: number; indexed: number; firstMs: number; firstCpu: number };
    const env = { PATH: process.env.PATH, NODE_PATH: join(ROOT, 'node_modules'), AWS_LAMBDA_FUNCTION_NAME: fixture.functions[0], AWS_REGION: 'us-east-1', WARDEN_POLICY: join(dir, 'policy.json') };
    // the layer's processes see nothing of this repository: the layer is self-contained, as on Lambda
    const layerEnv = { ...env, NODE_PATH: join(dir, 'layer', 'nodejs', 'node_modules') };
    const once = (file: string, flags: string[] = []) => JSON.parse(execFileSync(process.execPath, [...flags, join(dir, file)], { env: file === 'layer.js' ? layerEnv : env, cwd: dir, encoding: 'utf8' })) as Run;
    const results: Run[] = [];
    const layer: Run[] = [];
    const heaps: number[] = [];
    // alternated, so that both builds see the same machine
    for (let i = 0; i < runs; i++) {
      if (i % 2) { layer.push(once('layer.js')); results.push(once('npm.js')); } else { results.push(once('npm.js')); layer.push(once('layer.js')); }
      if (i < 7) heaps.push(once('npm.js', ['--expose-gc']).mb);
    }
    const med = (rs: Run[], k: keyof Run) => p50(rs.map((r) => r[k]));
    const [ms, cpu, requireMs, requireCpu, firstMs, firstCpu] = (['ms', 'cpu', 'requireMs', 'requireCpu', 'firstMs', 'firstCpu'] as const).map((k) => med(results, k)) as [number, number, number, number, number, number];
    const [layerMs, layerCpu, layerFirstMs, layerFirstCpu] = (['ms', 'cpu', 'firstMs', 'firstCpu'] as const).map((k) => med(layer, k)) as [number, number, number, number];
    // robust to where the first young-generation GC lands (install or first decision, ~2 ms either way)
    const withFirst = p50(results.map((r) => r.ms + r.firstMs));
    const withFirstCpu = p50(results.map((r) => r.cpu + r.firstCpu));
    const layerWithFirst = p50(layer.map((r) => r.ms + r.firstMs));
    const mb = p50(heaps);
    const zod = Math.max(...results.map((r) => r.zod), ...layer.map((r) => r.zod));
    const indexed = Math.min(...results.map((r) => r.indexed));
    const bytes = Buffer.byteLength(JSON.stringify(bundle));
    const agentBytes = statSync(join(dir, 'agent.js')).size;
    const layerBytes = statSync(join(dir, 'layer', AGENT_LAYER_REGISTER)).size;
    opts.log(`  cold start (require + install with ${bundle.entries} entries, ${(bytes / 1e6).toFixed(2)} MB bundle, ${indexed ? 'read through its index' : 'READ IN FULL'}; medians of ${runs}): dist/agent.js (${(agentBytes / 1e3).toFixed(0)} KB) ${ms.toFixed(1)} ms wall (require ${requireMs.toFixed(1)}, install ${(ms - requireMs).toFixed(1)}), ${cpu.toFixed(1)} ms CPU (require ${requireCpu.toFixed(1)}, install ${(cpu - requireCpu).toFixed(1)}); zod loaded: ${zod ? 'yes' : 'no'}; first decision (indexes the function's lists) ${firstMs.toFixed(1)} ms wall, ${firstCpu.toFixed(1)} ms CPU (cold start + first decision ${withFirst.toFixed(1)} ms wall, ${withFirstCpu.toFixed(1)} CPU); heap +${mb.toFixed(1)} MB`);
    opts.log(`  cold start of the agent layer (--require warden/agent/register, ${(layerBytes / 1e3).toFixed(0)} KB, installs as it loads): ${layerMs.toFixed(1)} ms wall, ${layerCpu.toFixed(1)} ms CPU; first decision ${layerFirstMs.toFixed(1)} ms wall, ${layerFirstCpu.toFixed(1)} ms CPU (together ${layerWithFirst.toFixed(1)} ms wall)`);
    return {
      'agent.cold_start_ms': ms, 'agent.cold_start_cpu_ms': cpu, 'agent.cold_start_require_ms': requireMs, 'agent.cold_start_install_ms': ms - requireMs,
      'agent.cold_start_require_cpu_ms': requireCpu, 'agent.cold_start_install_cpu_ms': cpu - requireCpu,
      'agent.cold_start_loads_zod': zod, 'agent.cold_start_bundle_indexed': indexed, 'agent.first_decision_ms': firstMs, 'agent.first_decision_cpu_ms': firstCpu,
      'agent.cold_start_with_first_decision_ms': withFirst, 'agent.cold_start_with_first_decision_cpu_ms': withFirstCpu, 'agent.layer_cold_start_with_first_decision_ms': layerWithFirst,
      'agent.layer_cold_start_ms': layerMs, 'agent.layer_cold_start_cpu_ms': layerCpu, 'agent.layer_first_decision_ms': layerFirstMs, 'agent.layer_first_decision_cpu_ms': layerFirstCpu,
      'agent.heap_mb': mb, 'agent.bundle_entries': bundle.entries, 'agent.bundle_bytes': bytes, 'agent.agent_js_bytes': agentBytes, 'agent.layer_register_bytes': layerBytes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
