import fc from 'fast-check';
import type { AccessEvent } from '../../engine/events/access-event';
import { compilePolicy, loadRulesFromFiles, ruleIdFor } from '../../engine/policy';
import { newObservations, observe } from '../../engine/learn/observations';
import { planLearnedFiles } from '../../engine/learn/plan';
import { checkAllowEntry } from '../../engine/learn/policy-port';
import { lintRepo } from '../../engine/policy/lint';

/**
 * The contract of learn: the written rules load and lint cleanly (no finding at all), decide `allow`
 * for every observed access, and `unlisted` for every access that was not observed.
 */
const NOW = Date.parse('2026-11-23T00:00:00Z');
const fnName = fc.constantFrom('orders-api', 'billing', 'payments-worker');
const awsAccess = fc.record({
  kind: fc.constant('aws' as const),
  service: fc.constantFrom('dynamodb', 's3', 'sqs'),
  action: fc.constantFrom('GetItem', 'PutItem', 'getitem', 'Query', 'GetObject'),
  resource: fc.option(fc.constantFrom(
    'arn:aws:dynamodb:us-east-1:1:table/a', 'arn:aws:dynamodb:us-east-1:1:table/b', 'arn:aws:s3:::bkt/k1', 'arn:aws:s3:::bkt/k2', 'arn:aws:sqs:us-east-1:1:q',
  ), { nil: undefined }),
}).map((a) => (a.resource === undefined ? { kind: a.kind, service: a.service, action: a.action } : a));
const httpAccess = fc.record({
  kind: fc.constant('http' as const),
  host: fc.constantFrom('api.stripe.com', 'API.Stripe.com.', 'a.svc.example.com', 'b.svc.example.com', 'example.com', '10.0.0.7', '[2001:db8::5]'),
  port: fc.option(fc.constantFrom(443, 8443), { nil: undefined }),
}).map((a) => (a.port === undefined ? { kind: a.kind, host: a.host } : a));
const tcpAccess = fc.record({
  kind: fc.constant('tcp' as const),
  address: fc.constantFrom('10.0.0.7', '10.0.0.8', '::ffff:10.0.0.9', '2001:db8::5'),
  port: fc.option(fc.constantFrom(5432, 6379), { nil: undefined }),
}).map((a) => (a.port === undefined ? { kind: a.kind, address: a.address } : a));
const access = fc.oneof(awsAccess, httpAccess, tcpAccess) as fc.Arbitrary<AccessEvent['access']>;
const event = fc.record({ fn: fnName, access, count: fc.integer({ min: 1, max: 5 }) });

function toEvent(x: { fn: string; access: AccessEvent['access']; count: number }, i: number): AccessEvent {
  return { id: `e${i}`, time: new Date(NOW - i * 1000).toISOString(), function: { name: x.fn, tags: {} }, access: x.access, mode: 'monitor', blocked: false, count: x.count };
}

function learn(events: AccessEvent[], generalize: { threshold: number } | null) {
  const obs = newObservations();
  for (const e of events) observe(obs, e);
  const plan = planLearnedFiles(obs, { generalize, existing: null, existingPaths: new Set(), checkEntry: checkAllowEntry, now: NOW, input: 'test.jsonl' });
  const repo = loadRulesFromFiles(plan.files.map((f) => ({ path: f.path, text: f.text })));
  return { plan, repo, policy: compilePolicy(repo) };
}

describe('learned rules (properties)', () => {
  it('load cleanly with unique ids, allow every observed access, and leave everything else unlisted', () => {
    fc.assert(fc.property(fc.array(event, { minLength: 1, maxLength: 25 }), fc.array(event, { maxLength: 25 }), (seen, probes) => {
      const events = seen.map(toEvent);
      const { plan, repo, policy } = learn(events, null);
      expect(plan.rejected).toEqual([]);
      expect(lintRepo(repo, NOW)).toEqual([]);
      for (const f of repo.functions) {
        const ids = (f.data.allow ?? []).map(ruleIdFor);
        expect(new Set(ids).size).toBe(ids.length);
        expect(f.data.mode).toBe('monitor');
      }
      for (const e of events) expect(policy.decide(e.function, e.access, NOW)).toMatchObject({ verdict: 'allow' });
      // tightness: a probe is allowed only if the exact-semantics oracle says an observed access covers it
      const learnedFor = new Set(events.map((e) => e.function.name));
      for (const p of probes.map(toEvent)) {
        const verdict = policy.decide(p.function, p.access, NOW).verdict;
        const covered = events.some((e) => e.function.name === p.function.name && covers(e.access, p.access));
        if (!learnedFor.has(p.function.name)) expect(verdict).toBe('allow'); // no rules for it: deny-list-only default
        else expect(verdict).toBe(covered ? 'allow' : 'unlisted');
      }
    }), { numRuns: 300 });
  });

  it('with --generalize still allows every observed access and loads cleanly', () => {
    fc.assert(fc.property(fc.array(event, { minLength: 1, maxLength: 40 }), fc.integer({ min: 2, max: 4 }), (seen, threshold) => {
      const events = seen.map(toEvent);
      const { policy, repo } = learn(events, { threshold });
      expect(lintRepo(repo, NOW)).toEqual([]);
      for (const e of events) expect(policy.decide(e.function, e.access, NOW)).toMatchObject({ verdict: 'allow' });
    }), { numRuns: 200 });
  });
});

/** Oracle: does an exact learned entry for `seen` match `probe`? (the semantics from DESIGN.md) */
function covers(seen: AccessEvent['access'], probe: AccessEvent['access']): boolean {
  if (seen.kind === 'aws' || probe.kind === 'aws') {
    if (seen.kind !== 'aws' || probe.kind !== 'aws') return false;
    return seen.service === probe.service && seen.action!.toLowerCase() === probe.action!.toLowerCase()
      && (seen.resource === undefined || seen.resource === probe.resource);
  }
  const target = (a: AccessEvent['access']): string => {
    const raw = (a.host ?? a.address)!.toLowerCase().replace(/\.$/, '').replace(/^\[|\]$/g, '');
    return raw.replace(/^::ffff:/, '');
  };
  return target(seen) === target(probe) && (seen.port === undefined || seen.port === probe.port);
}
