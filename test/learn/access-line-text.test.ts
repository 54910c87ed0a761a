import fc from 'fast-check';
import { AccessEventSchema } from '../../engine/events/access-event';
import { parseAccessLine } from '../../engine/stream/access-line';

/** The reference: what the line means without any fast path (JSON.parse, then the schema). */
function reference(text: string): { ok: boolean; event?: unknown } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false };
  }
  const r = AccessEventSchema.safeParse(v);
  return r.success ? { ok: true, event: r.data } : { ok: false };
}

function agrees(text: string): void {
  const ref = reference(text);
  // twice: the time parser memoizes the last timestamp
  for (let i = 0; i < 2; i++) {
    const ours = parseAccessLine(text);
    expect(ours.ok).toBe(ref.ok);
    if (ours.ok) expect(ours.event).toEqual(ref.event);
  }
}

// strings with the characters that matter to a scanner: quotes, backslashes, braces, controls, non-ASCII
const tricky = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('', 'a"b', 'a\\b', '{', '}', '\t', '\u0001', 'é', '\u2028', '__proto__', 'x'.repeat(300), '0', ',"id":"'),
);
const time = fc.oneof(
  fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-11-23T18:00:00Z', 'yesterday', ''),
);
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
const event = fc.record({
  id: fc.oneof(tricky, fc.constant('01JD0000000000000000000000')),
  time,
  function: fc.record({
    name: fc.oneof(tricky, fc.constantFrom('orders-api', 'fn-1')),
    account: opt(fc.constantFrom('123456789012', 'x'.repeat(40))),
    region: opt(fc.constant('us-east-1')),
    roleArn: opt(tricky),
    tags: opt(fc.dictionary(tricky, tricky, { maxKeys: 3 })),
  }, { requiredKeys: ['name'] }),
  access: fc.record({
    kind: fc.constantFrom('aws', 'http', 'tcp', 'ftp'),
    service: opt(fc.oneof(tricky, fc.constant('dynamodb'))),
    action: opt(fc.oneof(tricky, fc.constant('GetItem'))),
    resource: opt(tricky),
    host: opt(fc.oneof(tricky, fc.constant('api.example.com'))),
    address: opt(fc.constant('10.0.0.1')),
    port: opt(fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.constantFrom(0, 1.5, 1e21, 2 ** 53))),
    method: opt(fc.constant('POST')),
  }, { requiredKeys: ['kind'] }),
  mode: opt(fc.constantFrom('monitor', 'block', 'learn', 'off')),
  agentVerdict: opt(fc.constantFrom('allow', 'deny', 'unlisted', 'maybe')),
  blocked: opt(fc.boolean()),
  count: opt(fc.oneof(fc.integer({ min: -1, max: 1000 }), fc.constantFrom(1.5, 2 ** 53, 1e16, 0))),
  firstSeen: opt(time),
  lastSeen: opt(time),
  policyVersion: opt(tricky),
  failOpen: opt(fc.boolean()),
}, { requiredKeys: ['id', 'time', 'function', 'access'] });

const line = event.map((e) => JSON.stringify(e));
// a character-level mutation: insert, delete or replace with a character that matters to JSON
const ALPHABET = ['{', '}', '"', ',', ':', '\\', ' ', '\t', '0', '1', '-', '.', 'e', 'a', 't', 'n', '\u0001', '[', ']'];
const mutated = fc.tuple(line, fc.array(fc.tuple(fc.nat(), fc.constantFrom(0, 1, 2), fc.constantFrom(...ALPHABET)), { minLength: 1, maxLength: 3 }))
  .map(([l, muts]) => {
    let s = l;
    for (const [at, op, c] of muts) {
      const i = at % (s.length + 1);
      s = op === 0 ? s.slice(0, i) + c + s.slice(i) : op === 1 ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + c + s.slice(i + 1);
    }
    return s;
  });
// structural edits: a duplicated member, swapped order, a number in another spelling
const edited = fc.tuple(line, fc.constantFrom(
  (s: string) => s.replace(/,"count":(\d+)/, ',"count":$1,"count":7'),
  (s: string) => s.replace(/^\{"id":("[^"]*"),"time":("[^"]*")/, '{"time":$2,"id":$1'),
  (s: string) => s.replace(/"port":(\d+)/, '"port":$1.0'),
  (s: string) => s.replace(/"count":(\d+)/, '"count":0$1'),
  (s: string) => s.replace(/"count":(\d+)/, '"count":$1e0'),
  (s: string) => s.replace(/"access":\{/, '"access":{"kind":"tcp",'),
  (s: string) => s.replace(/"function":\{/, '"function":{"__proto__":{},'),
  (s: string) => s.replace(/\}$/, ',"extra":1}'),
  (s: string) => s.replace(/"blocked":(true|false)/, '"blocked":null'),
  (s: string) => ` ${s} `,
  (s: string) => s.replace(/":/g, '": '),
)).map(([l, f]) => f(l));

describe('parseAccessLine on line text (fast path vs JSON.parse + schema)', () => {
  it('keeps an own __proto__ tag key out of the result, as the schema does', () => {
    const l = '{"id":"a","time":"2026-11-23T18:00:00.000Z","function":{"name":"f","tags":{"__proto__":"x","team":"t"}},"access":{"kind":"http","host":"h"}}';
    const r = parseAccessLine(l);
    expect(r.ok && r.event.function.tags).toEqual(reference(l).event && (reference(l).event as { function: { tags: unknown } }).function.tags);
    expect(r.ok && Object.hasOwn(r.event.function.tags, '__proto__')).toBe(false);
  });

  it('accepts, rejects and extracts exactly what JSON.parse + the schema do on generated lines', () => {
    fc.assert(fc.property(line, agrees), { numRuns: 3000 });
  });

  it('agrees on character-level mutations of generated lines', () => {
    fc.assert(fc.property(mutated, agrees), { numRuns: 5000 });
  });

  it('agrees on structural edits (duplicates, key order, number spellings, whitespace, unknown keys)', () => {
    fc.assert(fc.property(edited, agrees), { numRuns: 2000 });
  });
});
