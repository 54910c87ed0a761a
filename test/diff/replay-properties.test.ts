import fc from 'fast-check';
import type { AccessEvent } from '../../engine/events/access-event';
import { compilePolicy, loadRulesFromFiles } from '../../engine/policy';
import { createResponseSelector } from '../../engine/responses/select';
import { Replay, type ReplaySide } from '../../engine/diff/replay';
import { parseAgentLine } from '../../engine/stream/access-line';

/** The aggregated replay (distinct accesses, groups, memoized responses) equals a naive per-event replay. */
const NOW = Date.parse('2026-11-23T00:00:00Z');
const ENTRIES = [
  '  - host: api.stripe.com', '  - host: "*.example.com"', '  - host: api.github.com:443', '  - cidr: 10.0.0.0/8',
  '  - aws: "dynamodb:*"\n    resource: "arn:aws:dynamodb:us-east-1:1:table/orders"', '  - aws: "s3:Get*"', '  - aws: "sqs:SendMessage"',
];
const DENIES = ['  - host: "*.pastebin.com"\n    severity: critical', '  - aws: "s3:GetObject"\n    resource: "arn:aws:s3:::secret/*"', '  - cidr: 10.9.0.0/16\n    severity: low'];

function side(allow: number[], deny: number[], withAllowList: boolean): ReplaySide {
  const list = (name: string, items: string[]) => (items.length ? `${name}:\n${items.join('\n')}\n` : `${name}: []\n`);
  const text = `functions: ["api-*"]\n${withAllowList ? list('allow', allow.map((i) => ENTRIES[i]!)) : ''}${list('deny', deny.map((i) => DENIES[i]!))}`;
  const policy = compilePolicy(loadRulesFromFiles([{ path: 'functions/api.yaml', text }]));
  return { policy, selector: createResponseSelector(policy.responses), source: 'x' };
}

const ruleSet = fc.record({
  allow: fc.uniqueArray(fc.integer({ min: 0, max: ENTRIES.length - 1 }), { maxLength: ENTRIES.length }),
  deny: fc.uniqueArray(fc.integer({ min: 0, max: DENIES.length - 1 }), { maxLength: DENIES.length }),
  withAllowList: fc.boolean(),
});
const access = fc.oneof(
  fc.record({ kind: fc.constant('http' as const), host: fc.constantFrom('api.stripe.com', 'a.example.com', 'x.pastebin.com', 'api.github.com', '10.1.2.3', '10.9.1.1'), port: fc.constantFrom(443, 80) }),
  fc.record({ kind: fc.constant('aws' as const), service: fc.constantFrom('dynamodb', 's3', 'sqs'), action: fc.constantFrom('GetItem', 'GetObject', 'SendMessage'),
    resource: fc.constantFrom('arn:aws:dynamodb:us-east-1:1:table/orders', 'arn:aws:s3:::secret/k', 'arn:aws:s3:::public/k') }),
) as fc.Arbitrary<AccessEvent['access']>;
const event = fc.record({ fn: fc.constantFrom('api-orders', 'api-billing', 'other'), team: fc.constantFrom('a', 'b'), access, count: fc.integer({ min: 1, max: 4 }) });

describe('Replay (property)', () => {
  it('reports exactly what a naive per-event replay finds, with or without the distinct-access memo', async () => {
    await fc.assert(fc.asyncProperty(ruleSet, ruleSet, fc.array(event, { maxLength: 30 }), fc.boolean(), fc.boolean(), async (b, h, evs, bounded, shared) => {
      const base = side(b.allow, b.deny, b.withAllowList);
      const head = side(h.allow, h.deny, h.withAllowList);
      const plain: AccessEvent[] = evs.map((e, i) => ({
        id: `e${i}`, time: '2026-11-22T00:00:00Z', function: { name: e.fn, tags: { team: e.team } }, access: e.access, mode: 'monitor', blocked: false, count: e.count,
      }));
      // as the log reader gives them: function and access objects shared (frozen) among equal texts
      const events = shared ? plain.map((e) => parseAgentLine(JSON.stringify(e))!) : plain;
      expect(events.every((e) => e !== null)).toBe(true);
      const saved = Replay.MAX_DISTINCT;
      if (bounded) Replay.MAX_DISTINCT = 2;
      let report;
      try {
        const replay = new Replay(base, head, NOW);
        events.forEach((e, i) => replay.add(e, i + 1));
        report = await replay.report();
      } finally {
        Replay.MAX_DISTINCT = saved;
      }
      // naive oracle
      const naive = new Map<string, { accesses: number; events: number; breaking: boolean }>();
      for (const e of events) {
        const d = async (s: ReplaySide) => {
          const v = s.policy.decide(e.function, e.access, NOW);
          const response = await s.selector.select({ verdict: v.verdict, severity: v.severity, service: e.access.service ?? null, action: e.access.action ?? null,
            functionName: e.function.name, tags: e.function.tags, mode: s.policy.modeFor(e.function.name) });
          return { ...v, response };
        };
        const [x, y] = [await d(base), await d(head)];
        if (x.verdict === y.verdict && x.response === y.response && x.rule === y.rule) continue;
        const k = `${e.function.name}|${JSON.stringify(x)}|${JSON.stringify(y)}`;
        const n = naive.get(k) ?? { accesses: 0, events: 0, breaking: x.verdict === 'allow' && y.verdict !== 'allow' };
        n.accesses += e.count;
        n.events++;
        naive.set(k, n);
      }
      const got = new Map(report.changes.map((c) => [`${c.function}|${JSON.stringify({ verdict: c.base.verdict, rule: c.base.rule, severity: c.base.severity, response: c.base.response })}|${JSON.stringify({ verdict: c.head.verdict, rule: c.head.rule, severity: c.head.severity, response: c.head.response })}`,
        { accesses: c.accesses, events: c.events, breaking: c.breaking }]));
      expect(got).toEqual(naive);
      expect(report.events).toBe(events.length);
    }), { numRuns: 150 });
  });
});
