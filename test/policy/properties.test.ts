import fc from 'fast-check';
import { stringify } from 'yaml';
import { compilePolicy, loadRulesFromFiles } from '../../engine/policy';
import type { Access } from '../../engine/events/access-event';
import { NOW, ruleEntryArb } from './helpers';

const HOSTS = ['a.example.com', '*.example.com', 'example.com', 'api.stripe.com', '*.stripe.com', 'x.y.example.com', '10.0.0.1'];
const CIDRS = ['10.0.0.0/8', '10.1.0.0/16', '169.254.169.254/32', '2001:db8::/32', '::ffff:10.0.0.0/104'];
const AWS = [['dynamodb:*', 'arn:aws:dynamodb:us-east-1:1:table/orders'], ['dynamodb:Get*', 'arn:aws:dynamodb:us-east-1:1:table/*'], ['s3:GetObject', 'arn:aws:s3:::b/*'], ['s3:*', undefined], ['*', 'arn:aws:s3:::b/secret?']] as const;
const FNS = ['orders', 'pay-1', 'pay-2', 'img'];

const entry = (deny: boolean) => ruleEntryArb(deny, { hosts: HOSTS, cidrs: CIDRS, aws: AWS });

const fileArb = fc.record({
  functions: fc.subarray(['orders', 'pay-*', 'img', 'pay-2'], { minLength: 1 }),
  mode: fc.constantFrom('monitor', 'block', 'learn'),
  allow: fc.option(fc.array(entry(false), { maxLength: 6 }), { nil: undefined }),
  deny: fc.array(entry(true), { maxLength: 4 }),
});
const repoArb = fc.record({ files: fc.array(fileArb, { minLength: 1, maxLength: 4 }), global: fc.record({ allow: fc.array(entry(false), { maxLength: 3 }), deny: fc.array(entry(true), { maxLength: 3 }) }) });

const ACCESSES: Access[] = [
  { kind: 'http', host: 'a.example.com', port: 443 }, { kind: 'http', host: 'example.com', port: 80 },
  { kind: 'http', host: 'x.y.example.com', port: 443 }, { kind: 'tcp', address: '10.1.2.3', port: 5432 },
  { kind: 'tcp', address: '169.254.169.254', port: 80 }, { kind: 'tcp', address: '2001:db8::9', port: 443 },
  { kind: 'http', host: 'API.stripe.com.', port: 443 },
  { kind: 'aws', service: 'dynamodb', action: 'GetItem', resource: 'arn:aws:dynamodb:us-east-1:1:table/orders' },
  { kind: 'aws', service: 's3', action: 'GetObject', resource: 'arn:aws:s3:::b/secret1' },
  { kind: 'aws', service: 's3', action: 'PutObject', resource: 'arn:aws:s3:::b/x' },
];

type Repo = fc.Arbitrary<unknown> extends never ? never : { files: { functions: string[]; mode: string; allow?: object[]; deny: object[] }[]; global: { allow: object[]; deny: object[] } };

function toFiles(r: Repo, names: string[]) {
  return [
    { path: 'global.yaml', text: stringify(r.global) },
    ...r.files.map((f, i) => ({ path: `functions/${names[i]}.yaml`, text: stringify(f) })),
  ];
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('properties', () => {
  it('shuffling files and entries changes neither decisions nor policyVersion', () => {
    fc.assert(fc.property(repoArb, fc.integer({ min: 1, max: 1e9 }), (repo, seed) => {
      const a = compilePolicy(loadRulesFromFiles(toFiles(repo as Repo, repo.files.map((_, i) => `f${i}`))));
      const shuffled: Repo = {
        global: { allow: shuffle(repo.global.allow, seed), deny: shuffle(repo.global.deny, seed + 1) },
        files: shuffle(repo.files, seed + 2).map((f, i) => ({ ...f, functions: shuffle(f.functions, seed + i), ...(f.allow ? { allow: shuffle(f.allow, seed + 3 + i) } : {}), deny: shuffle(f.deny, seed + 4 + i) })),
      };
      const b = compilePolicy(loadRulesFromFiles(shuffle(toFiles(shuffled, shuffled.files.map((_, i) => `g${i}`)), seed + 9)));
      expect(b.policyVersion).toBe(a.policyVersion);
      for (const fn of FNS) {
        expect(b.modeFor(fn)).toBe(a.modeFor(fn));
        for (const acc of ACCESSES) expect(b.decide({ name: fn }, acc, NOW)).toEqual(a.decide({ name: fn }, acc, NOW));
      }
    }), { numRuns: 60 });
  });

  it('a matching deny always wins, wherever it is', () => {
    const denyFor: [Access, object][] = [
      [ACCESSES[0]!, { host: 'a.example.com' }], [ACCESSES[3]!, { cidr: '10.1.2.3/32' }],
      [ACCESSES[7]!, { aws: 'dynamodb:GetItem' }], [ACCESSES[8]!, { aws: 's3:*', resource: 'arn:aws:s3:::b/*' }],
    ];
    fc.assert(fc.property(repoArb, fc.nat(denyFor.length - 1), fc.boolean(), fc.constantFrom(...FNS), (repo, k, inGlobal, fn) => {
      const [access, e] = denyFor[k]!;
      const r = structuredClone(repo) as Repo;
      const d = { id: 'the-deny', ...e, severity: 'critical' };
      if (inGlobal) r.global.deny.push(d); else r.files.push({ functions: [fn], mode: 'monitor', allow: [e], deny: [d] });
      const p = compilePolicy(loadRulesFromFiles(toFiles(r, r.files.map((_, i) => `f${i}`))));
      const v = p.decide({ name: fn }, access, NOW);
      expect(v.verdict).toBe('deny');
      expect(v.severity).toBe('critical');
    }), { numRuns: 80 });
  });

  it('random accesses never throw and never allow what a global deny-all-hosts list denies', () => {
    const p = compilePolicy(loadRulesFromFiles([{ path: 'global.yaml', text: 'deny:\n  - { id: all-v4, cidr: 0.0.0.0/0 }\n  - { id: all-v6, cidr: "::/0" }\n' }]));
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), fc.boolean(), (ip, asHost) => {
      const v = p.decide({ name: 'x' }, asHost ? { kind: 'http', host: ip } : { kind: 'tcp', address: ip }, NOW);
      expect(v.verdict).toBe('deny');
    }), { numRuns: 300 });
  });
});
