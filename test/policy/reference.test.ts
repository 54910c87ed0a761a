import fc from 'fast-check';
import { compilePolicy, normalizeRepo, type Located, type NormalizedEntry, type NormalizedPolicy, type RulesRepo } from '../../engine/policy';
import type { Access } from '../../engine/events/access-event';
import { suffixHash, type AllowException } from '../../engine/policy/compile';
import { globMatch } from '../../engine/policy/glob';
import { hostAsIp, ipEquals, maskIp, parseCidr, parseIp, type Ip } from '../../engine/policy/ip';
import type { AllowEntry, DenyEntry, FunctionRules } from '../../engine/policy/schema';
import type { ListVerdict } from '../../engine/policy/types';
import { NOW } from './helpers';

/**
 * decide against a brute-force reference: every entry of every applicable group checked one by
 * one, straight from DESIGN.md's rules (no index). Random policies and accesses are drawn from a
 * small alphabet so that look-alikes, shared prefixes, hash buckets and overlapping ranges collide
 * often: the indexes (service buckets, exact maps, ARN prefix tree, host-suffix table, per-length
 * IP tables, merged deny/allow lists) must never change an answer.
 */
const SEV_RANK = { info: 0, low: 1, medium: 2, high: 3, critical: 4 } as const;

function eventIps(a: Access): { host: string | undefined; ips: Ip[] } {
  let host: string | undefined;
  const ips: Ip[] = [];
  if (typeof a.host === 'string' && a.host.length > 0) {
    host = a.host.toLowerCase();
    if (host.endsWith('.')) host = host.slice(0, -1);
    const ip = host.length > 0 ? hostAsIp(host) : null;
    if (ip) { ips.push(ip); host = undefined; }
  }
  if (typeof a.address === 'string' && a.address.length > 0) {
    const ip = parseIp(a.address) ?? hostAsIp(a.address);
    if (ip) ips.push(ip);
  }
  return { host, ips };
}

function entryMatches(e: NormalizedEntry, a: Access, deny: boolean, now: number): boolean {
  if (e.expiresAt !== undefined && now >= e.expiresAt) return false;
  if (e.kind === 'aws') {
    if (a.kind !== 'aws') return false;
    const service = typeof a.service === 'string' ? a.service.toLowerCase() : '';
    const action = typeof a.action === 'string' ? a.action.toLowerCase() : '';
    if (e.service !== '*' && e.service !== service) return false;
    if (!globMatch(e.action!, action)) return false;
    if (e.resource !== undefined && (typeof a.resource !== 'string' || !globMatch(e.resource, a.resource))) return false;
    return true;
  }
  if (!deny && a.kind === 'aws') return false; // an aws call is allowed only by an aws entry
  if (e.port !== undefined && e.port !== a.port) return false;
  const { host, ips } = eventIps(a);
  if (e.kind === 'host') {
    if (host === undefined) return false;
    return e.wildcard ? host.endsWith(`.${e.host}`) : host === e.host;
  }
  const c = parseCidr(e.cidr!);
  if ('error' in c) throw new Error(c.error);
  return ips.some((ip) => ip.v === c.cidr.ip.v && ipEquals(maskIp(ip, c.cidr.prefix), c.cidr.ip));
}

export function referenceDecide(p: NormalizedPolicy, fn: string, a: Access, now: number): Pick<ListVerdict, 'verdict' | 'rule' | 'severity'> {
  const groups = p.groups.filter((g) => g.functions.some((f) => f === fn || globMatch(f, fn)));
  const allowLists = [...groups.map((g) => g.allow), p.global.allow, p.exceptions.filter((x) => x.functionName === fn).map((x) => x.entry)];
  const denyLists = [...groups.map((g) => g.deny), p.global.deny];
  const denies = denyLists.flat().filter((e) => entryMatches(e, a, true, now));
  if (denies.length > 0) {
    denies.sort((x, y) => SEV_RANK[y.severity!] - SEV_RANK[x.severity!] || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    return { verdict: 'deny', rule: denies[0]!.id, severity: denies[0]!.severity! };
  }
  const allows = allowLists.flat().filter((e) => entryMatches(e, a, false, now)).map((e) => e.id).sort();
  if (allows.length > 0) return { verdict: 'allow', rule: allows[0]!, severity: 'info' };
  return groups.some((g) => g.allowList) ? { verdict: 'unlisted', rule: null, severity: 'medium' } : { verdict: 'allow', rule: null, severity: 'info' };
}

// ---- random policies over a small alphabet ----
const LABELS = ['a', 'b', 'ab', 'ex', 'com', 'x-1'];
const label = fc.constantFrom(...LABELS);
const hostName = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
const hostPattern = fc.tuple(fc.boolean(), fc.array(label, { minLength: 2, maxLength: 3 }), fc.option(fc.constantFrom(80, 443), { nil: undefined }))
  .map(([wild, ls, port]) => `${wild ? '*.' : ''}${ls.join('.')}${port !== undefined ? `:${port}` : ''}`);
const CIDRS = ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.1.2.128/25', '10.1.2.3/32', '10.1.2.2/31', '0.0.0.0/0', '192.168.0.0/16',
  '200.1.2.3/32', '200.1.2.0/30', '10.1.2.0/31', '255.255.255.254/31', '128.0.0.0/1', '2001:db8::/32', '2001:db8::/64', '2001:db8::1/128',
  '2001:db8::8/125', '2001:db8::/100', '::/0', '::ffff:10.0.0.0/104', 'fe80::/10'];
const ADDRESSES = ['10.1.2.3', '10.1.2.2', '10.1.2.200', '10.9.9.9', '192.168.1.1', '200.1.2.3', '200.1.2.1', '255.255.255.255', '255.255.255.254',
  '128.0.0.1', '10.1.2.0', '10.1.2.1', '200.1.2.2', '2001:db8::1', '2001:db8::2', '2001:db8::f', '2001:db8::c', '2001:db8::1000:0',
  '2001:db8:1::1', '::ffff:10.1.2.3', 'fe80::1', '[2001:db8::1]', '1.2.3.4', 'not-an-ip', '010.1.2.3'];
const SERVICES = ['s3', 'dynamodb', 'sqs', '*'];
const ACTIONS = ['*', 'get*', 'getobject', 'putobject', 'put?bject', 'get*t', 'deleteitem'];
const RES_CHARS = ['a', 'b', '/', ':', '*', '?'];
const resourceGlob = fc.array(fc.constantFrom(...RES_CHARS), { maxLength: 5 }).map((cs) => `arn:aws:s3:::${cs.join('')}`);
const resourceValue = fc.array(fc.constantFrom('a', 'b', '/', ':', '*', '?'), { maxLength: 6 }).map((cs) => `arn:aws:s3:::${cs.join('')}`);
const EXPIRES = ['2026-11-22', '2026-11-23', '2026-11-24'];

const entryArb = (deny: boolean): fc.Arbitrary<AllowEntry | DenyEntry> => fc.tuple(
  fc.oneof(
    fc.record({ aws: fc.tuple(fc.constantFrom(...SERVICES), fc.constantFrom(...ACTIONS)).map(([s, a]) => (s === '*' && a === '*' ? '*' : `${s}:${a}`)), resource: fc.option(resourceGlob, { nil: undefined }) }),
    fc.record({ host: hostPattern }),
    fc.record({ cidr: fc.constantFrom(...CIDRS), port: fc.option(fc.constantFrom(80, 443), { nil: undefined }) }),
  ),
  fc.option(fc.constantFrom('r1', 'r2', 'r3', 'z9'), { nil: undefined }),
  fc.option(fc.constantFrom(...EXPIRES), { nil: undefined }),
  fc.constantFrom('low', 'medium', 'high', 'critical'),
).map(([e, id, expires, severity]) => {
  const out: Record<string, unknown> = { ...e };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  if (id !== undefined) out.id = id;
  if (expires !== undefined) out.expires = expires;
  if (deny) out.severity = severity;
  return out as AllowEntry | DenyEntry;
});

const FUNCTIONS = ['f', 'g', 'pay-1', 'pay-2'];
const fileArb = fc.record({
  functions: fc.subarray(['f', 'g', 'pay-*', 'pay-1', '*'], { minLength: 1 }),
  allow: fc.option(fc.array(entryArb(false), { maxLength: 8 }), { nil: undefined }),
  deny: fc.array(entryArb(true), { maxLength: 6 }),
});
const repoArb = fc.record({
  files: fc.array(fileArb, { minLength: 0, maxLength: 4 }),
  global: fc.option(fc.record({ allow: fc.array(entryArb(false), { maxLength: 3 }), deny: fc.array(entryArb(true), { maxLength: 3 }) }), { nil: undefined }),
  exceptions: fc.array(fc.tuple(fc.constantFrom(...FUNCTIONS), entryArb(false), fc.constantFrom(NOW - 1, NOW, NOW + 1)), { maxLength: 2 }),
});

const accessArb: fc.Arbitrary<Access> = fc.oneof(
  fc.record({
    kind: fc.constant('aws' as const),
    service: fc.constantFrom('s3', 'S3', 'dynamodb', 'sqs', 'lambda'),
    action: fc.constantFrom('GetObject', 'getobject', 'PutObject', 'PUTOBJECT', 'DeleteItem', 'Get', 'GetIt'),
    resource: fc.option(resourceValue, { nil: undefined }),
    host: fc.option(fc.constantFrom('a.ex.com', 'ex.com', '10.1.2.3'), { nil: undefined }),
    address: fc.option(fc.constantFrom(...ADDRESSES), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constantFrom('http' as const, 'tcp' as const),
    host: fc.option(fc.oneof(
      hostName,
      hostName.map((h) => `${h}.`),
      hostName.map((h) => h.toUpperCase()),
      hostName.map((h) => `.${h}`),
      hostName.map((h) => `${h.replace('.', '..')}`),
      fc.constantFrom(...ADDRESSES),
      fc.constantFrom('2852039166', '0x0a.1.2.3', '10.1.515', '[::ffff:10.1.2.3]', ''),
    ), { nil: undefined }),
    address: fc.option(fc.constantFrom(...ADDRESSES), { nil: undefined }),
    port: fc.option(fc.constantFrom(80, 443, 8080), { nil: undefined }),
  }),
).map((a) => {
  const out: Record<string, unknown> = { ...a };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as Access;
});

type RepoSpec = { files: { functions: string[]; allow?: (AllowEntry | DenyEntry)[]; deny: (AllowEntry | DenyEntry)[] }[]; global?: { allow: AllowEntry[]; deny: DenyEntry[] }; exceptions: [string, AllowEntry, number][] };

function build(spec: RepoSpec): { repo: RulesRepo; exceptions: AllowException[] } {
  const lines = { allow: [], deny: [], cases: [], rules: [], keys: {} };
  const functions: Located<FunctionRules>[] = spec.files.map((f, i) => ({
    file: `functions/f${i}.yaml`,
    data: { functions: f.functions, ...(f.allow ? { allow: f.allow } : {}), deny: f.deny as DenyEntry[] },
    lines,
  }));
  const global = spec.global ? { file: 'global.yaml', data: spec.global, lines } : null;
  const exceptions = spec.exceptions.map(([fn, entry, expiresAt], i) => ({ id: `x${i}`, functionName: fn, entry, expiresAt }));
  return { repo: { functions, global, responses: null, tests: [], extra: [], ignored: [] }, exceptions };
}

describe('decide against a brute-force reference', () => {
  it('random policies and accesses: same verdict, rule and severity as checking every entry', () => {
    fc.assert(fc.property(repoArb, fc.array(fc.tuple(fc.constantFrom(...FUNCTIONS, 'other'), accessArb), { minLength: 1, maxLength: 12 }), fc.constantFrom(NOW, NOW + 86_400_000), (spec, cases, now) => {
      const { repo, exceptions } = build(spec as RepoSpec);
      const norm = normalizeRepo(repo, { exceptions });
      const p = compilePolicy(repo, { exceptions });
      for (const [fn, a] of cases) {
        const got = p.decide({ name: fn }, a, now);
        const want = referenceDecide(norm, fn, a, now);
        expect({ fn, a, v: { verdict: got.verdict, rule: got.rule, severity: got.severity } }).toEqual({ fn, a, v: want });
      }
    }), { numRuns: 1500 });
  });

  it('the same answers when decided in any order, repeatedly (no state leaks between decisions)', () => {
    fc.assert(fc.property(repoArb, fc.array(fc.tuple(fc.constantFrom(...FUNCTIONS), accessArb), { minLength: 2, maxLength: 10 }), (spec, cases) => {
      const { repo, exceptions } = build(spec as RepoSpec);
      const p = compilePolicy(repo, { exceptions });
      const first = cases.map(([fn, a]) => p.decide({ name: fn }, a, NOW));
      const again = [...cases].reverse().map(([fn, a]) => p.decide({ name: fn }, a, NOW)).reverse();
      expect(again).toEqual(first);
    }), { numRuns: 300 });
  });

  it('names that share a bucket of the wildcard table are told apart by their text', () => {
    // "na.com" and "0c.com" hash alike (31-polynomial, right to left): "n"·31+"a" = "0"·31+"c"
    expect(suffixHash('na.com')).toBe(suffixHash('0c.com'));
    const { repo } = build({ files: [{ functions: ['f'], allow: [{ id: 'na', host: '*.na.com' }], deny: [{ id: 'oc', host: '*.0c.com:80', severity: 'high' }] }], exceptions: [] });
    const p = compilePolicy(repo);
    expect(p.decide({ name: 'f' }, { kind: 'http', host: 'x.na.com', port: 80 }, NOW)).toMatchObject({ verdict: 'allow', rule: 'na' });
    expect(p.decide({ name: 'f' }, { kind: 'http', host: 'x.0c.com', port: 80 }, NOW)).toMatchObject({ verdict: 'deny', rule: 'oc' });
    expect(p.decide({ name: 'f' }, { kind: 'http', host: 'x.0c.com', port: 443 }, NOW)).toMatchObject({ verdict: 'unlisted' });
    expect(p.decide({ name: 'f' }, { kind: 'http', host: 'x.0b.com', port: 80 }, NOW)).toMatchObject({ verdict: 'unlisted' });
  });

  it('an access whose getters decide another access meanwhile still gets its own answer', () => {
    const { repo } = build({ files: [{ functions: ['f'], allow: [{ id: 'ok', host: 'ok.com' }], deny: [{ id: 'evil', host: 'evil.com', severity: 'critical' }] }], exceptions: [] });
    const p = compilePolicy(repo);
    for (const key of ['host', 'address', 'kind', 'port'] as const) {
      const values: Record<string, unknown> = { kind: 'http', host: 'evil.com', address: undefined, port: 443 };
      const access = {} as Access;
      for (const k of Object.keys(values)) {
        Object.defineProperty(access, k, {
          enumerable: true,
          get: () => {
            if (k === key) expect(p.decide({ name: 'f' }, { kind: 'http', host: 'ok.com' }, NOW)).toMatchObject({ verdict: 'allow' });
            return values[k];
          },
        });
      }
      expect(p.decide({ name: 'f' }, access, NOW)).toMatchObject({ verdict: 'deny', rule: 'evil' });
    }
  });

  it('long host names still match a wildcard entry (the suffix, not the whole name, is looked up)', () => {
    const { repo } = build({ files: [{ functions: ['f'], allow: [{ host: '*.ex.com' }], deny: [{ host: '*.evil.com', severity: 'high' }] }], exceptions: [] });
    const p = compilePolicy(repo);
    const long = `${'a'.repeat(63)}.`.repeat(20);
    expect(p.decide({ name: 'f' }, { kind: 'http', host: `${long}evil.com` }, NOW)).toMatchObject({ verdict: 'deny' });
    expect(p.decide({ name: 'f' }, { kind: 'http', host: `${long}ex.com` }, NOW)).toMatchObject({ verdict: 'allow' });
    expect(p.decide({ name: 'f' }, { kind: 'http', host: `${long}xex.com` }, NOW)).toMatchObject({ verdict: 'unlisted' });
    expect(p.decide({ name: 'f' }, { kind: 'http', host: 'ex.com' }, NOW)).toMatchObject({ verdict: 'unlisted' });
  });
});
