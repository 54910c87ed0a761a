import fc from 'fast-check';
import { AccessEventSchema } from '../../engine/events/access-event';
import { parseAccessLine, parseAgentLine } from '../../engine/stream/access-line';
import { FastPathCounter, mutatedText } from '../fast-path';

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

/** how many lines the line-level fast path (parseAgentLine) took, to check the tests exercise it */
const taken = new FastPathCounter();

function agrees(text: string): void {
  const ref = reference(text);
  // twice: the time parser memoizes the last timestamp, the fast path its sub-objects
  for (let i = 0; i < 2; i++) {
    const fast = parseAgentLine(text);
    taken.all++;
    if (fast !== null) {
      taken.fast++;
      expect(ref.ok).toBe(true);
      expect(fast).toEqual(ref.event);
    }
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

// events as the agent writes them: plain strings and mostly valid values, so that most lines are
// in the fast path's form; an invalid value now and then (weight 1 in 10)
const plain = fc.stringMatching(/^[\w.:/ -]{1,12}$/);
const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>): fc.Arbitrary<T | U> =>
  fc.oneof({ arbitrary: good, weight: 9 }, { arbitrary: bad, weight: 1 });
const goodTime = fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
const agentTime = mostly(goodTime, fc.constantFrom('2026-11-23T18:00:00Z', 'yesterday', '', '2026-11-23T18:00:00.12xZ'));
const agentAccess = fc.oneof(
  fc.record({ kind: mostly(fc.constant('aws'), fc.constant('ftp')), service: mostly(plain, fc.constant('')), action: plain, resource: opt(plain), host: opt(plain), port: opt(fc.constant(443)) }),
  fc.record({ kind: fc.constant('http'), host: mostly(plain, fc.constant('')), port: opt(mostly(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(-1, 70000, 1.5, 1e21))), method: opt(fc.constant('POST')) }, { requiredKeys: ['kind', 'host'] }),
  fc.record({ kind: fc.constant('tcp'), host: opt(plain), address: mostly(fc.constant('10.0.0.1'), fc.constant('x'.repeat(129))), port: fc.integer({ min: 0, max: 65535 }) }, { requiredKeys: ['kind', 'address', 'port'] }),
);
const agentEvent = fc.record({
  id: mostly(plain, fc.constant('x'.repeat(129))),
  time: agentTime,
  function: fc.record({
    name: mostly(plain, fc.constant('')),
    account: opt(mostly(fc.constant('123456789012'), fc.constant('x'.repeat(40)))),
    region: opt(fc.constant('us-east-1')),
    roleArn: opt(plain),
    tags: opt(fc.dictionary(mostly(plain, fc.constant('__proto__')), plain, { maxKeys: 3 })),
  }, { requiredKeys: ['name'] }),
  access: agentAccess,
  mode: opt(mostly(fc.constantFrom('monitor', 'block', 'learn'), fc.constant('off'))),
  agentVerdict: opt(mostly(fc.constantFrom('allow', 'deny', 'unlisted'), fc.constant('maybe'))),
  blocked: opt(fc.boolean()),
  count: opt(mostly(fc.integer({ min: 1, max: 1000 }), fc.constantFrom(0, -1, 1.5, 2 ** 53, 2 ** 53 - 1, 1e16))),
  firstSeen: opt(agentTime),
  lastSeen: opt(agentTime),
  policyVersion: opt(mostly(plain, fc.constant('v'.repeat(129)))),
  failOpen: opt(fc.boolean()),
}, { requiredKeys: ['id', 'time', 'function', 'access'] });

// the agent's usual line: firstSeen and lastSeen equal to time
const sameTimes = fc.tuple(agentEvent, fc.boolean(), fc.boolean()).map(([e, f, l]) => ({
  ...e, ...(f ? { firstSeen: e.time } : {}), ...(l ? { lastSeen: e.time } : {}),
}));
const line = fc.oneof(event, agentEvent, sameTimes).map((e) => JSON.stringify(e));
// a character-level mutation: insert, delete or replace with a character that matters to JSON
const ALPHABET = ['{', '}', '"', ',', ':', '\\', ' ', '\t', '0', '1', '-', '.', 'e', 'a', 't', 'n', '\u0001', '[', ']'];
const mutated = mutatedText(line, ALPHABET);
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
  // firstSeen/lastSeen equal to time, or nearly (a prefix, one more character)
  (s: string) => { const t = /"time":"([^"]*)"/.exec(s)?.[1] ?? ''; return s.replace(/"firstSeen":"[^"]*"/, `"firstSeen":"${t}"`).replace(/"lastSeen":"[^"]*"/, `"lastSeen":"${t}"`); },
  (s: string) => { const t = /"time":"([^"]*)"/.exec(s)?.[1] ?? ''; return s.replace(/"firstSeen":"[^"]*"/, `"firstSeen":"${t.slice(0, -1)}"`); },
  (s: string) => { const t = /"time":"([^"]*)"/.exec(s)?.[1] ?? ''; return s.replace(/"lastSeen":"[^"]*"/, `"lastSeen":"${t}0"`); },
  (s: string) => s.replace(/"mode":"[a-z]+"/, '"mode":"blocks"').replace(/"agentVerdict":"[a-z]+"/, '"agentVerdict":"allowed"'),
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
    expect(taken.share(() => fc.assert(fc.property(line, agrees), { numRuns: 4000 }))).toBeGreaterThan(0.15);
  });

  it('agrees on character-level mutations of generated lines', () => {
    expect(taken.share(() => fc.assert(fc.property(mutated, agrees), { numRuns: 6000 }))).toBeGreaterThan(0.015);
  });

  it('agrees on structural edits (duplicates, key order, number spellings, whitespace, unknown keys)', () => {
    expect(taken.share(() => fc.assert(fc.property(edited, agrees), { numRuns: 3000 }))).toBeGreaterThan(0.05);
  });

  it('takes the line the agent writes, and shares its function and access objects (frozen)', () => {
    const ev = {
      id: '01JD0000000000000000000000', time: '2026-11-23T18:00:00.123Z',
      function: { name: 'orders-api', account: '123456789012', region: 'us-east-1', roleArn: 'arn:aws:iam::123456789012:role/x', tags: { team: 'a' } },
      access: { kind: 'aws', service: 'dynamodb', action: 'GetItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/t', host: 'dynamodb.us-east-1.amazonaws.com', port: 443 },
      mode: 'block', agentVerdict: 'allow', blocked: false, count: 2, firstSeen: '2026-11-23T18:00:00.000Z', lastSeen: '2026-11-23T18:00:00.123Z', policyVersion: 'v1', failOpen: true,
    };
    const a = parseAgentLine(JSON.stringify(ev));
    const b = parseAgentLine(JSON.stringify({ ...ev, id: 'other' }));
    expect(a).toEqual(reference(JSON.stringify(ev)).event);
    expect(b?.function).toBe(a?.function);
    expect(b?.access).toBe(a?.access);
    expect(Object.isFrozen(a?.function) && Object.isFrozen(a?.function.tags) && Object.isFrozen(a?.access)).toBe(true);
    // not the agent's form: the JSON.parse path decides (and still accepts)
    expect(parseAgentLine(JSON.stringify(ev, null, 1))).toBeNull();
    expect(parseAccessLine(JSON.stringify(ev, null, 1))).toEqual({ ok: true, event: a });
  });
});
