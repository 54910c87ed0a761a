/**
 * Agent bench. Overheads are the same call to a local server with the agent off and on, measured
 * side by side in alternating rounds (p50 of each side, then the difference). Event counts come
 * from the real PutEvents path (local endpoint). Cold start and heap are measured in a fresh `node`
 * process that requires the built agent and installs it with a 10,000-entry bundle.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { buildSync } from 'esbuild';
import { currentAgent, install, uninstall, withWarden } from '../../engine/agent';
import { compilePolicy, loadRulesFromFiles, toBundle } from '../../engine/policy';
import { startPutEventsServer } from '../../engine/local/putevents-server';
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

/**
 * Alternating rounds of `perRound` calls off, then on. The overhead is the median over rounds of the
 * difference in process CPU time per call (on − off): CPU time, not wall time, because the bench
 * machine is shared and busy (wall p50s are logged for reference); paired rounds cancel drift.
 */
async function sideBySide(rounds: number, perRound: number, call: (on: boolean) => Promise<unknown>, setOn: (on: boolean) => Promise<void>): Promise<{ off: number; on: number; overhead: number }> {
  const off: number[] = [], on: number[] = [], diffs: number[] = [];
  for (let i = 0; i < 50; i++) { await setOn(false); await call(false); await setOn(true); await call(true); } // warm-up (JIT, sockets)
  for (let r = 0; r < rounds; r++) {
    const cpu: number[] = [];
    for (const side of [false, true]) {
      await setOn(side);
      const c0 = process.cpuUsage();
      for (let i = 0; i < perRound; i++) {
        const t = process.hrtime.bigint();
        await call(side);
        (side ? on : off).push(Number(process.hrtime.bigint() - t) / 1000);
      }
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / perRound);
    }
    diffs.push(cpu[1]! - cpu[0]!);
  }
  await setOn(false);
  return { off: p50(off), on: p50(on), overhead: p50(diffs) };
}

export async function bench(opts: BenchOptions): Promise<Record<string, number | string | boolean>> {
  const out: Record<string, number | string | boolean> = {};
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}')); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const events = await startPutEventsServer();
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_EVENTBRIDGE: events.url, AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1' });
  const policy = compilePolicy(loadRulesFromFiles([{ path: 'functions/bench-fn.yaml', text: RULES }]));
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = `http://127.0.0.1:${port}/x`;
  const rounds = opts.quick ? 10 : 40;
  const perRound = opts.quick ? 100 : 250;
  // "on": a fresh agent inside an invocation, as in a handler (its flush happens at the end, untimed)
  const setOn = async (on: boolean) => {
    const current = currentAgent();
    if (current) await current.endInvocation();
    uninstall();
    if (on) install({ env: ENV, policy }).beginInvocation();
  };
  try {
    const httpGet = () => new Promise<void>((res, rej) => { http.get(url, { agent: keepAlive }, (r) => { r.resume(); r.on('end', res); }).on('error', rej); });
    const h = await sideBySide(rounds, perRound, httpGet, setOn);
    out['agent.http_overhead_us_p50'] = h.overhead;
    opts.log(`  http.get  off ${h.off.toFixed(1)} µs, on ${h.on.toFixed(1)} µs, CPU overhead ${h.overhead.toFixed(1)} µs/call`);

    const doFetch = async () => { const r = await fetch(url); await r.arrayBuffer(); };
    const f = await sideBySide(rounds, perRound, doFetch, setOn);
    out['agent.fetch_overhead_us_p50'] = f.overhead;
    opts.log(`  fetch     off ${f.off.toFixed(1)} µs, on ${f.on.toFixed(1)} µs, CPU overhead ${f.overhead.toFixed(1)} µs/call`);

    // two identical clients: the one used with the agent off is never instrumented
    const mk = () => new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials: creds, maxAttempts: 1 });
    const clients = { off: mk(), on: mk() };
    const cmd = new GetItemCommand({ TableName: 'orders', Key: { id: { S: '1' } } });
    const s = await sideBySide(rounds, perRound, (on) => (on ? clients.on : clients.off).send(cmd), setOn);
    out['agent.sdk_overhead_us_p50'] = s.overhead;
    opts.log(`  SDK call  off ${s.off.toFixed(1)} µs, on ${s.on.toFixed(1)} µs, CPU overhead ${s.overhead.toFixed(1)} µs/call`);

    // CPU of the hot path alone (cached decision + aggregation), without any I/O around it
    uninstall();
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
    const warm = withWarden(async () => { await httpGet(); await clients.on.send(cmd); }, { env: ENV, policy });
    for (let i = 0; i < 1000; i++) await warm({}, {});
    out['agent.events_per_1k_warm_invocations'] = events.events.length;
    out['agent.distinct_accesses_per_invocation'] = 2;
    uninstall();
  } finally {
    uninstall();
    process.env = saved;
    keepAlive.destroy();
    server.closeAllConnections();
    server.close();
    await events.close();
  }

  Object.assign(out, coldStart(opts));
  return out;
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

/** Fresh process: require the built agent, install it with a 10k-entry bundle; time and heap added. */
function coldStart(opts: BenchOptions): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-agent-bench-'));
  try {
    const fixture = buildFixture(100, 100, 0);
    const bundle = toBundle(compilePolicy(fixture.repo));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(bundle));
    // the same build as `npm run build` for the agent entry
    buildSync({ entryPoints: [join(ROOT, 'engine/agent/index.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', packages: 'external', outfile: join(dir, 'agent.js'), logLevel: 'warning' });
    // split: require (module loading) and install (config, bundle read + index, hooks); whether zod got loaded.
    // Timed without --expose-gc: any V8 flag changes the flag hash and Node then rejects its built-in code
    // cache, compiling node:net/http/https from source (~30 ms here) — a cost no Lambda pays. Heap: own runs.
    const script = `
      const collect = typeof global.gc === 'function' ? global.gc : () => undefined;
      collect(); const h0 = process.memoryUsage().heapUsed;
      const t0 = process.hrtime.bigint(); const c0 = process.cpuUsage();
      const agent = require(${JSON.stringify(join(dir, 'agent.js'))});
      const t1 = process.hrtime.bigint(); const c1 = process.cpuUsage(c0);
      const core = agent.install();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const c = process.cpuUsage(c0);
      if (!core.policyVersion) throw new Error('policy not loaded: ' + core.policyError);
      const zod = Object.keys(require.cache).some((f) => /[\\/]node_modules[\\/]zod[\\/]/.test(f)) ? 1 : 0;
      collect(); const mb = (process.memoryUsage().heapUsed - h0) / 1048576;
      process.stdout.write(JSON.stringify({ ms, mb, cpu: (c.user + c.system) / 1000, requireMs: Number(t1 - t0) / 1e6, requireCpu: (c1.user + c1.system) / 1000, zod }));`;
    const runs = opts.quick ? 3 : 7;
    type Run = { ms: number; mb: number; cpu: number; requireMs: number; requireCpu: number; zod: number };
    const env = { PATH: process.env.PATH, NODE_PATH: join(ROOT, 'node_modules'), AWS_LAMBDA_FUNCTION_NAME: fixture.functions[0], AWS_REGION: 'us-east-1', WARDEN_POLICY: join(dir, 'policy.json') };
    const once = (flags: string[]) => JSON.parse(execFileSync(process.execPath, [...flags, '-e', script], { env, encoding: 'utf8' })) as Run;
    const results: Run[] = [];
    const heaps: number[] = [];
    for (let i = 0; i < runs; i++) { results.push(once([])); heaps.push(once(['--expose-gc']).mb); }
    const med = (k: keyof Run) => p50(results.map((r) => r[k]));
    const [ms, cpu, requireMs, requireCpu] = [med('ms'), med('cpu'), med('requireMs'), med('requireCpu')];
    const mb = p50(heaps);
    const zod = Math.max(...results.map((r) => r.zod));
    opts.log(`  cold start (require + install with ${bundle.entries} entries): ${ms.toFixed(1)} ms wall (require ${requireMs.toFixed(1)}, install ${(ms - requireMs).toFixed(1)}), ${cpu.toFixed(1)} ms CPU (require ${requireCpu.toFixed(1)}); zod loaded: ${zod ? 'yes' : 'no'}; heap +${mb.toFixed(1)} MB`);
    return { 'agent.cold_start_ms': ms, 'agent.cold_start_cpu_ms': cpu, 'agent.cold_start_require_ms': requireMs, 'agent.cold_start_install_ms': ms - requireMs, 'agent.cold_start_loads_zod': zod, 'agent.heap_mb': mb, 'agent.bundle_entries': bundle.entries };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
