import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Engine } from 'json-rules-engine';
import type { BenchOptions } from './main';
import type { Access } from '../../engine/events/access-event';
import { compilePolicy, normalizeRepo, readBundle, toBundle, type NormalizedEntry } from '../../engine/policy';
import type { ListVerdict } from '../../engine/policy/types';
import { globMatch } from '../../engine/policy/glob';
import { maskIp, ipEquals, parseCidr, parseIp } from '../../engine/policy/ip';
import { buildFixture } from './decide-fixture';

/**
 * decide.*: Warden's indexed matcher against Cedar (wasm, one preparsed policy set per function)
 * and json-rules-engine (one engine per function, a rule per entry) on the same 10k-entry policy.
 * Every engine's answers are cross-checked against Warden's before anything is timed.
 */
type Verdict = { verdict: ListVerdict['verdict']; rules: string[] };
const NOW = Date.parse('2026-11-23T12:00:00Z');

function gcFn(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

// ---- Cedar ----
const cstr = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
function cedarCondition(e: NormalizedEntry, effect: 'allow' | 'deny'): string {
  const c: string[] = [];
  if (e.kind === 'aws') {
    c.push('context.kind == "aws"');
    if (e.service !== '*') c.push(`context.service == ${cstr(e.service!)}`);
    if (e.action !== '*') c.push(e.action!.includes('*') ? `context.action like ${cstr(e.action!)}` : `context.action == ${cstr(e.action!)}`);
    if (e.resource !== undefined) c.push(e.resource.includes('*') ? `context.resource like ${cstr(e.resource)}` : `context.resource == ${cstr(e.resource)}`);
  } else {
    if (effect === 'allow') c.push('context.kind != "aws"');
    if (e.kind === 'host') c.push(e.wildcard ? `context.host like ${cstr(`*.${e.host}`)}` : `context.host == ${cstr(e.host!)}`);
    else c.push(`context has ip && context.ip.isInRange(ip(${cstr(e.cidr!)}))`);
    if (e.port !== undefined) c.push(`context.port == ${e.port}`);
  }
  if (c.some((x) => x.includes('?'))) throw new Error('the bench fixture must not use "?" (Cedar has no single-character wildcard)');
  return c.join(' && ');
}

function cedarContext(a: Access): Record<string, unknown> {
  const ctx: Record<string, unknown> = {
    kind: a.kind,
    service: (a.service ?? '').toLowerCase(),
    action: (a.action ?? '').toLowerCase(),
    resource: a.resource ?? '',
    host: (a.host ?? '').toLowerCase().replace(/\.$/, ''),
    port: a.port ?? -1,
  };
  if (a.address) ctx.ip = { __extn: { fn: 'ip', arg: a.address } };
  return ctx;
}

// ---- json-rules-engine ----
function jreRule(e: NormalizedEntry, effect: 'allow' | 'deny') {
  const all: { fact: string; operator: string; value: unknown }[] = [];
  if (e.kind === 'aws') {
    all.push({ fact: 'kind', operator: 'equal', value: 'aws' });
    if (e.service !== '*') all.push({ fact: 'service', operator: 'equal', value: e.service });
    all.push({ fact: 'action', operator: 'glob', value: e.action });
    if (e.resource !== undefined) all.push({ fact: 'resource', operator: 'glob', value: e.resource });
  } else {
    if (effect === 'allow') all.push({ fact: 'kind', operator: 'notEqual', value: 'aws' });
    if (e.kind === 'host') all.push({ fact: 'host', operator: 'glob', value: e.wildcard ? `*.${e.host}` : e.host });
    else all.push({ fact: 'ip', operator: 'inCidr', value: e.cidr });
    if (e.port !== undefined) all.push({ fact: 'port', operator: 'equal', value: e.port });
  }
  return { conditions: { all }, event: { type: effect, params: { id: e.id } } };
}

function jreEngine(allow: NormalizedEntry[], deny: NormalizedEntry[]): Engine {
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addOperator<string, string>('glob', (fact, pattern) => typeof fact === 'string' && globMatch(pattern, fact));
  engine.addOperator<string, string>('inCidr', (fact, cidr) => {
    if (typeof fact !== 'string') return false;
    const ip = parseIp(fact), c = parseCidr(cidr);
    return ip !== null && !('error' in c) && ipEquals(maskIp(ip, c.cidr.prefix), c.cidr.ip);
  });
  for (const e of allow) engine.addRule(jreRule(e, 'allow'));
  for (const e of deny) engine.addRule(jreRule(e, 'deny'));
  return engine;
}

function jreFacts(a: Access): Record<string, unknown> {
  return { kind: a.kind, service: (a.service ?? '').toLowerCase(), action: (a.action ?? '').toLowerCase(), resource: a.resource, host: a.host?.toLowerCase().replace(/\.$/, ''), port: a.port, ip: a.address };
}

function crossCheck(name: string, w: ListVerdict, other: Verdict, fn: string, a: Access): void {
  const ok = w.verdict === other.verdict && (w.rule === null ? other.rules.length === 0 || w.verdict === 'unlisted' : other.rules.includes(w.rule));
  if (!ok) throw new Error(`${name} disagrees with Warden for ${fn} ${JSON.stringify(a)}: warden ${JSON.stringify(w)}, ${name} ${JSON.stringify(other)}`);
}

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
};
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

export async function bench(opts: BenchOptions): Promise<Record<string, number | string | boolean>> {
  const { log, quick } = opts;
  const gc = gcFn();
  const fx = buildFixture(100, 100, 20_000);
  log(`  policy: ${fx.entries} entries over ${fx.functions.length} functions; ${fx.accesses.length} accesses`);

  // compile (median of 5): normalize, hash, and index every group (indexing is otherwise lazy)
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    compilePolicy(fx.repo).indexAll();
    times.push(performance.now() - t0);
    cpuTimes.push(cpuSeconds(c0) * 1000);
  }
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  const compileMs = times[2]!;
  const bundleText = JSON.stringify(toBundle(compilePolicy(fx.repo)));
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    readBundle(bundleText).decide({ name: fx.functions[0]! }, fx.accesses[0]!.access, NOW);
    loads.push(performance.now() - t0);
  }
  loads.sort((a, b) => a - b);
  gc(); gc();
  const h0 = process.memoryUsage().heapUsed;
  const p = compilePolicy(fx.repo).indexAll();
  gc(); gc();
  const heapMb = (process.memoryUsage().heapUsed - h0) / (1024 * 1024);
  log(`  compile: ${compileMs.toFixed(1)} ms (median of 5; ${cpuTimes[2]!.toFixed(1)} ms CPU), heap of the compiled policy ${heapMb.toFixed(1)} MB; bundle ${bundleText.length} bytes loads + first decision in ${loads[2]!.toFixed(1)} ms`);

  // Warden throughput and latency
  const acc = fx.accesses;
  for (let i = 0; i < acc.length; i++) p.decide({ name: acc[i]!.fn }, acc[i]!.access, NOW); // warm-up
  const rounds = quick ? 10 : 50;
  let sink = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < acc.length; i++) if (p.decide({ name: acc[i]!.fn }, acc[i]!.access, NOW).verdict === 'deny') sink++;
  }
  const wardenOps = (rounds * acc.length) / ((performance.now() - t0) / 1000);
  const wardenCpuOps = (rounds * acc.length) / (cpuSeconds(cpu0));
  const lat: number[] = [];
  for (let r = 0; r < (quick ? 2 : 5); r++) {
    for (let i = 0; i < acc.length; i++) {
      const s = process.hrtime.bigint();
      p.decide({ name: acc[i]!.fn }, acc[i]!.access, NOW);
      lat.push(Number(process.hrtime.bigint() - s) / 1000);
    }
  }
  lat.sort((a, b) => a - b);
  log(`  warden: ${Math.round(wardenOps).toLocaleString()} decisions/s, p50 ${pct(lat, 0.5).toFixed(2)} µs, p99 ${pct(lat, 0.99).toFixed(2)} µs (${sink > 0 ? 'denies seen' : 'no denies?'})`);
  const verdictMix = { allow: 0, deny: 0, unlisted: 0 };
  for (const a of acc) verdictMix[p.decide({ name: a.fn }, a.access, NOW).verdict]++;
  log(`  verdict mix: ${JSON.stringify(verdictMix)}`);

  // Cedar: one preparsed policy set per function
  const norm = normalizeRepo(fx.repo);
  const cedar = await import('@cedar-policy/cedar-wasm/nodejs');
  for (const g of norm.groups) {
    const staticPolicies: Record<string, string> = {};
    for (const e of g.allow) staticPolicies[e.id] = `permit(principal, action, resource) when { ${cedarCondition(e, 'allow')} };`;
    for (const e of g.deny) staticPolicies[e.id] = `forbid(principal, action, resource) when { ${cedarCondition(e, 'deny')} };`;
    const r = cedar.preparsePolicySet(g.functions[0]!, { staticPolicies });
    if (r.type !== 'success') throw new Error(`cedar: ${JSON.stringify(r.errors.slice(0, 2))}`);
  }
  const cedarDecide = (fn: string, a: Access): Verdict => {
    const ans = cedar.statefulIsAuthorized({
      principal: { type: 'Function', id: fn }, action: { type: 'Action', id: 'access' }, resource: { type: 'Target', id: 'x' },
      context: cedarContext(a) as never, preparsedPolicySetId: fn, entities: [],
    });
    if (ans.type !== 'success') throw new Error(`cedar failed: ${JSON.stringify(ans.errors.slice(0, 2))}`);
    const reasons = ans.response.diagnostics.reason;
    if (ans.response.diagnostics.errors.length > 0) throw new Error(`cedar evaluation errors: ${JSON.stringify(ans.response.diagnostics.errors.slice(0, 2))}`);
    return { verdict: ans.response.decision === 'allow' ? 'allow' : reasons.length > 0 ? 'deny' : 'unlisted', rules: reasons };
  };
  const cedarN = quick ? 1000 : 4000;
  const cedarSample = acc.slice(0, cedarN);
  for (const a of cedarSample) crossCheck('cedar', p.decide({ name: a.fn }, a.access, NOW), cedarDecide(a.fn, a.access), a.fn, a.access);
  const ccpu0 = process.cpuUsage();
  const c0 = performance.now();
  for (const a of cedarSample) cedarDecide(a.fn, a.access);
  const cedarOps = cedarN / ((performance.now() - c0) / 1000);
  const cedarCpuOps = cedarN / cpuSeconds(ccpu0);
  log(`  cedar: ${Math.round(cedarOps).toLocaleString()} decisions/s over ${cedarN} (answers cross-checked)`);

  // json-rules-engine: one engine per function, a rule per entry
  const engines = new Map<string, Engine>();
  for (const g of norm.groups) engines.set(g.functions[0]!, jreEngine(g.allow, g.deny));
  const jreDecide = async (fn: string, a: Access): Promise<Verdict> => {
    const { events } = await engines.get(fn)!.run(jreFacts(a));
    const denies = events.filter((e) => e.type === 'deny').map((e) => String(e.params!.id));
    if (denies.length) return { verdict: 'deny', rules: denies };
    const allows = events.filter((e) => e.type === 'allow').map((e) => String(e.params!.id));
    return allows.length ? { verdict: 'allow', rules: allows } : { verdict: 'unlisted', rules: [] };
  };
  const jreN = quick ? 200 : 1000;
  const jreSample = acc.slice(0, jreN);
  for (const a of jreSample) crossCheck('json-rules-engine', p.decide({ name: a.fn }, a.access, NOW), await jreDecide(a.fn, a.access), a.fn, a.access);
  const j0 = performance.now();
  for (const a of jreSample) await jreDecide(a.fn, a.access);
  const jreOps = jreN / ((performance.now() - j0) / 1000);
  log(`  json-rules-engine: ${Math.round(jreOps).toLocaleString()} decisions/s over ${jreN} (answers cross-checked)`);
  log(`  warden / cedar = ${(wardenOps / cedarOps).toFixed(0)}x wall, ${(wardenCpuOps / cedarCpuOps).toFixed(0)}x per CPU-second; warden / json-rules-engine = ${(wardenOps / jreOps).toFixed(0)}x`);
  log(`  (per CPU-second of this process: warden ${Math.round(wardenCpuOps).toLocaleString()}/s, cedar ${Math.round(cedarCpuOps).toLocaleString()}/s — robust to other load on a shared machine)`);

  return {
    'decide.entries': fx.entries,
    'decide.functions': fx.functions.length,
    'decide.warden_ops_per_s': Math.round(wardenOps),
    'decide.warden_p50_us': +pct(lat, 0.5).toFixed(3),
    'decide.warden_p99_us': +pct(lat, 0.99).toFixed(3),
    'decide.cedar_ops_per_s': Math.round(cedarOps),
    'decide.jre_ops_per_s': Math.round(jreOps),
    'decide.warden_vs_cedar': +(wardenOps / cedarOps).toFixed(1),
    'decide.warden_cpu_ops_per_s': Math.round(wardenCpuOps),
    'decide.cedar_cpu_ops_per_s': Math.round(cedarCpuOps),
    'decide.compile_ms': +compileMs.toFixed(2),
    'decide.compile_cpu_ms': +cpuTimes[2]!.toFixed(2),
    'decide.heap_mb': +heapMb.toFixed(2),
    'decide.bundle_bytes': bundleText.length,
    'decide.bundle_load_ms': +loads[2]!.toFixed(2),
  };
}
