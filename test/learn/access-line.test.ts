import fc from 'fast-check';
import { AccessEventSchema } from '../../engine/events/access-event';
import { FAST_PATH_ENABLED, parseAccessLine, toAccessEvent } from '../../engine/stream/access-line';

const good = {
  id: '01JD0000000000000000000000', time: '2026-11-23T18:00:00.000Z',
  function: { name: 'orders-api', account: '123456789012', region: 'us-east-1' },
  access: { kind: 'aws', service: 'dynamodb', action: 'PutItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders', host: 'dynamodb.us-east-1.amazonaws.com', port: 443 },
  mode: 'block', agentVerdict: 'allow', blocked: false, count: 3,
};

describe('parseAccessLine', () => {
  it('has its fast path on: it knows every field of the access-event schema', () => {
    expect(FAST_PATH_ENABLED).toBe(true);
  });

  it('parses a well-formed event exactly like the schema does', () => {
    const r = parseAccessLine(JSON.stringify(good));
    expect(r).toEqual({ ok: true, event: AccessEventSchema.parse(good) });
  });

  it('reports invalid JSON and schema errors with the failing path', () => {
    expect(parseAccessLine('{"id":')).toEqual({ ok: false, error: expect.stringMatching(/^not valid JSON/) });
    const r = parseAccessLine(JSON.stringify({ ...good, access: { kind: 'aws', service: 'dynamodb' } }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/needs "service" and "action"/);
    const t = parseAccessLine(JSON.stringify({ ...good, time: 'yesterday' }));
    expect(!t.ok && t.error).toMatch(/time: must be an ISO-8601 timestamp/);
  });

  it('agrees with AccessEventSchema.safeParse on arbitrary mutations (fast path never widens the schema)', () => {
    const val = fc.oneof(
      fc.constant(undefined), fc.constant(null), fc.string({ maxLength: 5 }), fc.integer({ min: -2, max: 70000 }),
      fc.double(), fc.boolean(), fc.constant('aws'), fc.constant('tcp'), fc.constant('learn'), fc.constant(''),
      fc.constant('2026-01-01T00:00:00Z'), fc.constant({}), fc.constant([]), fc.constant('x'.repeat(300)),
    );
    const paths: string[][] = [
      ['id'], ['time'], ['function'], ['function', 'name'], ['function', 'account'], ['function', 'tags'], ['access'],
      ['access', 'kind'], ['access', 'service'], ['access', 'action'], ['access', 'resource'], ['access', 'host'],
      ['access', 'address'], ['access', 'port'], ['mode'], ['agentVerdict'], ['blocked'], ['count'], ['firstSeen'],
      ['lastSeen'], ['policyVersion'], ['failOpen'], ['function', 'tags', 'team'],
    ];
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...paths), val), { maxLength: 3 }), (muts) => {
      const ev = structuredClone(good) as Record<string, unknown>;
      for (const [path, v] of muts) {
        let o = ev as Record<string, unknown>;
        for (const k of path.slice(0, -1)) {
          if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
          o = o[k] as Record<string, unknown>;
        }
        if (v === undefined) delete o[path[path.length - 1]!];
        else o[path[path.length - 1]!] = structuredClone(v);
      }
      const ours = toAccessEvent(JSON.parse(JSON.stringify(ev)));
      const ref = AccessEventSchema.safeParse(JSON.parse(JSON.stringify(ev)));
      expect(ours.ok).toBe(ref.success);
      if (ours.ok && ref.success) expect(ours.event).toEqual(ref.data);
    }), { numRuns: 2000 });
  });
});

describe('parseTime', () => {
  it('equals Date.parse on canonical, odd and invalid timestamps, in any order', async () => {
    const { parseTime } = await import('../../engine/stream/access-line');
    const fixed = ['2026-11-23T18:00:00.123Z', '2026-11-23T18:00:00.999Z', '2026-11-23T18:00:01.000Z', '2026-02-30T00:00:00.000Z',
      '2026-13-01T00:00:00.000Z', '2026-11-23T18:00:00.12xZ', '2026-11-23T18:00:00Z', '2026-11-23', 'garbage', '2026-11-23T25:00:00.000Z'];
    const iso = fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
    fc.assert(fc.property(fc.array(fc.oneof(iso, fc.constantFrom(...fixed)), { maxLength: 20 }), (xs) => {
      for (const x of xs) expect(parseTime(x)).toBe(Date.parse(x));
    }), { numRuns: 500 });
  });
});
