import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { BenchOptions } from './main';
import { compilePolicy } from '../../engine/policy';
import { createResponseSelector } from '../../engine/responses/select';
import { evaluateEvent, evaluateEventSync } from '../../engine/evaluate/evaluate';
import { createUlidFactory } from '../../engine/evaluate/ids';
import { buildFixture } from './decide-fixture';

/**
 * engine.events_per_s: what the rules-engine Lambda does per event — JSON.parse the event,
 * validate it, decide it against the 10k-entry policy, pick the response (the shipped
 * responses.yaml through json-rules-engine, memoized) and build the "Policy Decision" detail.
 */
export async function bench(opts: BenchOptions): Promise<Record<string, number | string | boolean>> {
  const fx = buildFixture(100, 100, 20_000);
  const policy = compilePolicy(fx.repo);
  const responses = createResponseSelector(parse(readFileSync('rules/responses.yaml', 'utf8')));
  const t = Date.parse('2026-11-23T18:00:00Z');
  const lines = fx.accesses.map((a, i) => JSON.stringify({
    id: `01JDBENCH${String(i).padStart(17, '0')}`, time: '2026-11-23T18:00:00.000Z',
    function: { name: a.fn, account: '123456789012', region: 'us-east-1', tags: { team: `t${i % 5}` } },
    access: a.access, mode: 'block', count: 1 + (i % 3),
  }));
  const ctx = { policy, responses, now: t, newId: createUlidFactory(() => t) };
  const run = async (): Promise<number> => {
    let denies = 0;
    for (const line of lines) {
      const raw: unknown = JSON.parse(line);
      const r = evaluateEventSync(raw, ctx) ?? (await evaluateEvent(raw, ctx));
      if (r.decision.error) throw new Error(`bench event rejected: ${r.decision.error}`);
      if (r.detail!.verdict === 'deny') denies++;
    }
    return denies;
  };
  await run(); // warm-up (fills the response memo, indexes every function)
  const rounds = opts.quick ? 3 : 10;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) await run();
  const eps = (rounds * lines.length) / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(c0);
  const cpuEps = (rounds * lines.length) / ((cpu.user + cpu.system) / 1e6);
  opts.log(`  engine: ${Math.round(eps).toLocaleString()} events/s (parse, validate, decide, respond, build the decision event); ${Math.round(cpuEps).toLocaleString()} per CPU-second`);
  return { 'engine.events_per_s': Math.round(eps), 'engine.events_per_cpu_s': Math.round(cpuEps) };
}
