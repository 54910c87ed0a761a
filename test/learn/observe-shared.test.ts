import fc from 'fast-check';
import type { AccessEvent } from '../../engine/events/access-event';
import { newObservations, observe, type Observations } from '../../engine/learn/observations';
import { parseAgentLine } from '../../engine/stream/access-line';

/**
 * observe() caches by the shared, frozen function/access objects of the line fast path: the
 * observations must be those of plain (unshared) event objects.
 */
const snapshot = (o: Observations) => ({
  events: o.events,
  accesses: o.accesses,
  functions: [...o.functions.values()].map((f) => ({
    name: f.name, aws: [...f.aws].sort(), hosts: [...f.hosts].sort(), ips: [...f.ips].sort(),
  })).sort((a, b) => (a.name < b.name ? -1 : 1)),
});

const event = fc.record({
  fn: fc.constantFrom('a', 'b'),
  tag: fc.constantFrom('t1', 't2'),
  access: fc.oneof(
    fc.record({ kind: fc.constant('aws'), service: fc.constantFrom('s3', 'S3'), action: fc.constantFrom('GetObject', 'getobject'), resource: fc.option(fc.constantFrom('arn:aws:s3:::b/1', 'arn:aws:s3:::b/2'), { nil: undefined }) }),
    fc.record({ kind: fc.constant('http'), host: fc.constantFrom('api.example.com', 'API.example.com.', '10.0.0.1', '::ffff:10.0.0.1'), port: fc.option(fc.constantFrom(443, 80), { nil: undefined }) }),
    fc.record({ kind: fc.constant('tcp'), address: fc.constantFrom('10.0.0.2', 'not-an-ip'), port: fc.constant(5432) }),
  ),
  ms: fc.integer({ min: 0, max: 10_000 }),
  first: fc.integer({ min: -5_000, max: 0 }),
  count: fc.integer({ min: 1, max: 5 }),
}).map(({ fn, tag, access, ms, first, count }) => {
  const time = new Date(Date.UTC(2026, 10, 23) + ms).toISOString();
  return {
    id: `e${ms}`, time, function: { name: fn, tags: { team: tag } }, access, mode: 'monitor', blocked: false, count,
    firstSeen: new Date(Date.UTC(2026, 10, 23) + ms + first).toISOString(), lastSeen: time,
  } as AccessEvent;
});

describe('observe with shared event objects', () => {
  it('records the same as with plain objects', () => {
    fc.assert(fc.property(fc.array(event, { maxLength: 40 }), (events) => {
      const plain = newObservations();
      const shared = newObservations();
      let viaFast = 0;
      let learnable = 0;
      for (const ev of events) {
        if (observe(plain, structuredClone(ev))) learnable += ev.count;
        const parsed = parseAgentLine(JSON.stringify(ev));
        if (parsed !== null) viaFast++;
        observe(shared, parsed ?? ev);
      }
      expect(viaFast).toBe(events.length);
      expect(snapshot(shared)).toEqual(snapshot(plain));
      const seen = [...plain.functions.values()].flatMap((f) => [...f.aws.values(), ...f.hosts.values(), ...f.ips.values()]);
      expect(seen.reduce((n, x) => n + x.count, 0)).toBe(learnable);
    }), { numRuns: 300 });
  });

  it('keeps its by-object caches bounded across functions, and still counts right after clearing them', () => {
    const obs = newObservations();
    const time = '2026-11-23T00:00:00.000Z';
    const fns = [Object.freeze({ name: 'a', tags: {} }), Object.freeze({ name: 'b', tags: {} })];
    const n = 120_000;
    let most = 0;
    let cleared = false;
    for (let i = 0; i < n; i++) {
      const access = Object.freeze({ kind: 'http' as const, host: `h${i % 110_000}.example.com` });
      observe(obs, { id: 'x', time, function: fns[i % 2]!, access, mode: 'monitor', blocked: false, count: 1 });
      most = Math.max(most, obs.cachedObjects!);
      if (obs.cachedObjects! < most) cleared = true;
    }
    expect(most).toBeLessThanOrEqual(100_000);
    expect(cleared).toBe(true);
    const hosts = [...obs.functions.values()].reduce((s, f) => s + [...f.hosts.values()].reduce((c, x) => c + x.count, 0), 0);
    expect(hosts).toBe(n);
    expect(obs.events).toBe(n);
  });
});
