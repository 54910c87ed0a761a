/**
 * The agent's reader (`readBundleFor`): one function's part of a `warden.bundle/2`, found through
 * the byte index. It must decide exactly as the full policy does for that function, refuse to
 * decide for any other, and — because the index is not covered by the hash — treat every lie in
 * the index as "read it in full" (or reject), never as a policy that decides differently.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { Access } from '../../engine/events/access-event';
import {
  BundleError, compilePolicy, INTERNAL_ERROR_RULE, loadRulesDir, loadRulesFromFiles, readBundle, toBundle,
  type AllowException, type PolicyBundle, type WardenPolicy,
} from '../../engine/policy';
import { loadBundleFileFor, readBundleFor, ScopedPolicy } from '../../engine/policy/bundle';
import { hashText, normalizeRepo } from '../../engine/policy/compile';
import { WardenPolicy as WardenPolicyClass } from '../../engine/policy/compile';
import { canonicalize } from '../../engine/policy/normalize';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOW, ruleEntryArb } from './helpers';

// ---- generated policies ----

// `functions` inside a value must not be taken for a group's key
const HOSTS = ['a.example.com', '*.example.com', 'example.com', 'api.stripe.com', '*.stripe.com', '10.0.0.1', 'functions.example.com'];
const CIDRS = ['10.0.0.0/8', '10.1.0.0/16', '169.254.169.254/32', '2001:db8::/32'];
// multi-byte ARNs: the index holds byte offsets, JS strings count UTF-16 units
const AWS = [['s3:GetObject', 'arn:aws:s3:::bücher-ü/注文*'], ['dynamodb:*', 'arn:aws:dynamodb:us-east-1:1:table/orders'], ['dynamodb:Get*', 'arn:aws:dynamodb:us-east-1:1:table/*'], ['s3:GetObject', 'arn:aws:s3:::b/*'], ['s3:*', undefined], ['*', 'arn:aws:s3:::b/secret?']] as const;
const NAMES = ['orders', 'pay-*', 'img', 'pay-2', 'p?y-1'];
const FNS = ['orders', 'pay-1', 'pay-2', 'img', 'nobody'];

const entry = (deny: boolean) => ruleEntryArb(deny, { hosts: HOSTS, cidrs: CIDRS, aws: AWS });

const fileArb = fc.record({
  functions: fc.subarray(NAMES, { minLength: 1 }),
  mode: fc.option(fc.constantFrom('monitor', 'block', 'learn'), { nil: undefined }),
  allow: fc.option(fc.array(entry(false), { maxLength: 5 }), { nil: undefined }),
  deny: fc.array(entry(true), { maxLength: 3 }),
}).map((f) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)));
const exceptionArb = fc.record({
  id: fc.constantFrom('x1', 'x2', 'x3'),
  functionName: fc.constantFrom(...FNS),
  entry: fc.constantFrom({ host: 'api.stripe.com' }, { cidr: '10.9.0.0/16' }, { aws: 's3:PutObject', resource: 'arn:aws:s3:::b/x' }),
  expiresAt: fc.constantFrom(NOW - 1, NOW + 60_000),
});
const policyArb = fc.record({
  files: fc.array(fileArb, { minLength: 0, maxLength: 5 }),
  global: fc.record({ allow: fc.array(entry(false), { maxLength: 3 }), deny: fc.array(entry(true), { maxLength: 3 }) }),
  exceptions: fc.array(exceptionArb, { maxLength: 3 }),
}).map(({ files, global, exceptions }) => {
  const src = [{ path: 'global.yaml', text: stringify(global) }, ...files.map((f, i) => ({ path: `functions/f${i}.yaml`, text: stringify(f) }))];
  return compilePolicy(loadRulesFromFiles(src), { exceptions: exceptions as AllowException[] });
});

const ACCESSES: Access[] = [
  { kind: 'http', host: 'a.example.com', port: 443 }, { kind: 'http', host: 'example.com', port: 80 },
  { kind: 'http', host: 'api.stripe.com', port: 443 }, { kind: 'aws', service: 's3', action: 'GetObject', resource: 'arn:aws:s3:::bücher-ü/注文1' },
  { kind: 'tcp', address: '10.1.2.3', port: 5432 }, { kind: 'tcp', address: '10.9.1.1', port: 443 },
  { kind: 'tcp', address: '169.254.169.254', port: 80 }, { kind: 'tcp', address: '2001:db8::9', port: 443 },
  { kind: 'aws', service: 'dynamodb', action: 'GetItem', resource: 'arn:aws:dynamodb:us-east-1:1:table/orders' },
  { kind: 'aws', service: 's3', action: 'GetObject', resource: 'arn:aws:s3:::b/secret1' },
  { kind: 'aws', service: 's3', action: 'PutObject', resource: 'arn:aws:s3:::b/x' },
];

const textOf = (p: WardenPolicy | PolicyBundle) => JSON.stringify('format' in p ? p : toBundle(p));

/** The scoped policy decides as the full one for `fn`; returns how it was read. */
function expectSameFor(scoped: ScopedPolicy, full: WardenPolicy, fn: string): void {
  expect(scoped.policyVersion).toBe(full.policyVersion);
  expect(scoped.modeFor(fn)).toBe(full.modeFor(fn));
  for (const a of ACCESSES) for (const now of [NOW, NOW + 120_000]) expect(scoped.decide({ name: fn }, a, now)).toEqual(full.decide({ name: fn }, a, now));
  expect(scoped.hasRulesFor(fn)).toBe(full.hasRulesFor(fn));
}

/** A tampered bundle read for `fn`: rejected with BundleError (undefined), or read and deciding as `full` does. */
function rejectedOrSame(input: string | Buffer, fn: string, full: WardenPolicy): ScopedPolicy | undefined {
  let scoped: ScopedPolicy;
  try {
    scoped = readBundleFor(input, fn);
  } catch (err) {
    expect(err).toBeInstanceOf(BundleError);
    return undefined;
  }
  expectSameFor(scoped, full, fn);
  return scoped;
}

describe('readBundleFor: one function from the index', () => {
  it('decides, for each function, exactly as the full policy (generated policies, all through the index)', () => {
    fc.assert(fc.property(policyArb, (full) => {
      const text = textOf(full);
      for (const fn of FNS) {
        const scoped = readBundleFor(text, fn);
        expect(scoped.via).toBe('index');
        expectSameFor(scoped, full, fn);
      }
    }), { numRuns: 120 });
  });

  it('reads bytes (Buffer, Uint8Array at an offset) the same as text; multi-byte names', () => {
    const host = (id: string, h: string) => ({ id, kind: 'host' as const, host: h });
    const full = new WardenPolicyClass(canonicalize({
      groups: [
        { functions: ['zahlungen-ü'], mode: 'block', allowList: true, allow: [host('ü', 'a.example.com')], deny: [] },
        { functions: ['注文', 'zahlungen-*'], mode: 'monitor', allowList: true, allow: [host('注文', 'api.stripe.com')], deny: [{ ...host('d', 'example.com'), severity: 'high' }] },
      ],
      global: { allow: [], deny: [] }, exceptions: [], responses: null,
    }));
    const bytes = Buffer.from(textOf(full));
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes, 7);
    for (const input of [bytes, padded.subarray(7), textOf(full)]) {
      const scoped = readBundleFor(input, 'zahlungen-ü');
      expect(scoped.via).toBe('index');
      expectSameFor(scoped, full, 'zahlungen-ü');
    }
  });

  it('the example rules: every function, same decisions and modes; from a file too', async () => {
    const full = compilePolicy(await loadRulesDir('rules'));
    const f = join(mkdtempSync(join(tmpdir(), 'warden-bs-')), 'policy.json');
    writeFileSync(f, textOf(full) + '\n');
    for (const fn of ['orders-api', 'payments-worker', 'payments-worker-eu', 'image-resizer', 'other']) {
      const scoped = loadBundleFileFor(f, fn);
      expect(scoped.via).toBe('index');
      expectSameFor(scoped, full, fn);
    }
    expect(() => loadBundleFileFor(f + '.missing', 'orders-api')).toThrow(BundleError);
  });

  it('is useless for any other function: internal-error deny, mode block, no rules answer, no full policy', async () => {
    const full = compilePolicy(await loadRulesDir('rules'));
    const scoped = readBundleFor(textOf(full), 'orders-api');
    const allowedForOthers: Access = { kind: 'http', host: 'api.fastly.com', port: 443 };
    expect(full.decide({ name: 'image-resizer' }, allowedForOthers, NOW).verdict).toBe('allow');
    expect(scoped.decide({ name: 'image-resizer' }, allowedForOthers, NOW)).toEqual({ verdict: 'deny', rule: INTERNAL_ERROR_RULE, severity: 'high' });
    expect(scoped.modeFor('image-resizer')).toBe('block');
    expect(() => scoped.hasRulesFor('image-resizer')).toThrow(BundleError);
    expect(scoped).not.toHaveProperty('normalized');
    expect(scoped).not.toHaveProperty('responses');
  });

  it('a /1 bundle, a re-formatted file, a bundle without index: read in full, same decisions, says why', async () => {
    const full = compilePolicy(await loadRulesDir('rules'));
    const b = toBundle(full);
    const { index: _index, ...rest } = b;
    const v1 = JSON.stringify({ ...rest, format: 'warden.bundle/1' });
    const cases = [v1, JSON.stringify(b, null, 2), JSON.stringify({ ...b, index: null }), `  ${JSON.stringify(b)}`];
    for (const text of cases) {
      const scoped = readBundleFor(text, 'payments-worker-7');
      expect(scoped.via).toBe('full');
      expect(scoped.fallback).toEqual(expect.any(String));
      expectSameFor(scoped, full, 'payments-worker-7');
      expect(scoped.modeFor('orders-api')).toBe('block');
      expect(scoped.decide({ name: 'orders-api' }, ACCESSES[0]!, NOW).rule).toBe(INTERNAL_ERROR_RULE);
    }
    expect(readBundle(v1).policyVersion).toBe(full.policyVersion);
  });

  it('a corrupt bundle throws BundleError, as the full reader does', async () => {
    const text = textOf(compilePolicy(await loadRulesDir('rules')));
    expect(() => readBundleFor(text.slice(0, text.length / 2), 'orders-api')).toThrow(/not JSON/);
    expect(() => readBundleFor(text.replace('"host":"api.stripe.com"', '"host":"api.stripe.org"'), 'orders-api')).toThrow(/hashes to/);
    expect(() => readBundleFor(text.replace('"format":"warden.bundle/2"', '"format":"warden.bundle/9"'), 'orders-api')).toThrow(/format/);
    expect(() => readBundleFor(text, '')).toThrow(BundleError);
  });

  it('checks the parts it parses: an invalid entry of the function or of global is a BundleError', () => {
    const full = compilePolicy(loadRulesFromFiles([{ path: 'functions/a.yaml', text: 'functions: [a]\nallow: [{ host: x.example }]\n' }, { path: 'functions/b.yaml', text: 'functions: [b]\nallow: [{ host: y.example }]\n' }]));
    const bad = structuredClone(full.normalized);
    (bad.groups[0]!.allow[0] as unknown as Record<string, unknown>).allowAll = true;
    const forged = new WardenPolicyClass(bad);
    const text = textOf(forged);
    expect(() => readBundleFor(text, 'a')).toThrow(/unknown key "allowAll"/);
    // another function's group is hashed and delimited, not parsed
    expect(readBundleFor(text, 'b').via).toBe('index');
  });
});

// ---- the index is not covered by the hash: every lie must be caught ----

type Tamper = (b: PolicyBundle, rnd: () => number) => PolicyBundle | null;
const pick = <T>(xs: readonly T[], rnd: () => number): T => xs[Math.floor(rnd() * xs.length)]!;
const cloneB = (b: PolicyBundle): PolicyBundle => ({ ...b, modes: structuredClone(b.modes), index: structuredClone(b.index) });

const TAMPERS: Record<string, Tamper> = {
  'shift a group span': (b, r) => { const x = cloneB(b); if (!x.index!.groups.length) return null; const s = pick(x.index!.groups, r); const d = r() < 0.5 ? -1 : 1; if (r() < 0.5) s[0] += d; else s[1] += d; return x; },
  'shift a span and its neighbour': (b, r) => { const x = cloneB(b); const g = x.index!.groups; if (g.length < 2) return null; const i = Math.floor(r() * (g.length - 1)); const d = 1 + Math.floor(r() * 20); g[i]![1] += d; g[i + 1]![0] += d; return x; },
  'swap the functions of two groups': (b, r) => { const x = cloneB(b); if (x.modes.length < 2) return null; const i = Math.floor(r() * x.modes.length); const j = (i + 1) % x.modes.length; [x.modes[i]!.functions, x.modes[j]!.functions] = [x.modes[j]!.functions, x.modes[i]!.functions]; return x; },
  'rename a group': (b, r) => { const x = cloneB(b); if (!x.modes.length) return null; pick(x.modes, r).functions = [pick(FNS, r)]; return x; },
  'add a function to a group': (b, r) => { const x = cloneB(b); if (!x.modes.length) return null; const m = pick(x.modes, r); m.functions = [...m.functions, pick(FNS, r)].sort(); return x; },
  'drop a group': (b, r) => { const x = cloneB(b); if (!x.modes.length) return null; const i = Math.floor(r() * x.modes.length); x.modes.splice(i, 1); x.index!.groups.splice(i, 1); return x; },
  'drop a group, the previous span covering it': (b, r) => { const x = cloneB(b); const g = x.index!.groups; if (g.length < 2) return null; const i = 1 + Math.floor(r() * (g.length - 1)); g[i - 1]![1] = g[i]![1]; g.splice(i, 1); x.modes.splice(i, 1); return x; },
  'duplicate a span': (b, r) => { const x = cloneB(b); if (!x.modes.length) return null; const i = Math.floor(r() * x.modes.length); x.modes.splice(i, 0, structuredClone(x.modes[i]!)); x.index!.groups.splice(i, 0, [...x.index!.groups[i]!]); return x; },
  'change a mode': (b, r) => { const x = cloneB(b); if (!x.modes.length) return null; const m = pick(x.modes, r); m.mode = pick(['monitor', 'block', 'learn', null].filter((v) => v !== m.mode), r); return x; },
  'last group swallows global and exceptions': (b) => { const x = cloneB(b); const g = x.index!.groups; if (!g.length) return null; g[g.length - 1]![1] = x.index!.exceptions[1]; return x; },
  'move global': (b, r) => { const x = cloneB(b); const d = r() < 0.5 ? -1 : 1; x.index!.global = [x.index!.global[0] + d, x.index!.global[1] + d]; return x; },
  'empty exceptions span': (b) => { const x = cloneB(b); x.index!.exceptions = [x.index!.exceptions[0], x.index!.exceptions[0] + 2]; return x; },
  'move responses': (b, r) => { const x = cloneB(b); x.index!.responses = [x.index!.responses[0], x.index!.responses[1] - 1 - Math.floor(r() * 3)]; return x; },
  'a span as a string': (b) => { const x = cloneB(b); (x.index as unknown as Record<string, unknown>).global = '0-10'; return x; },
  'modes longer than the index': (b) => { const x = cloneB(b); x.modes.push({ functions: ['orders'], mode: 'block' }); return x; },
};

describe('readBundleFor: a lying index never decides differently', () => {
  it.each(Object.keys(TAMPERS))('%s (generated policies): rejected, read in full, or the same decisions', (name) => {
    const tamper = TAMPERS[name]!;
    let tampered = 0, viaIndex = 0;
    fc.assert(fc.property(policyArb, fc.integer({ min: 1, max: 2 ** 30 }), (full, seed) => {
      let s = seed;
      const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
      const original = toBundle(full);
      const b = tamper(original, rnd);
      const text = JSON.stringify(b);
      if (b === null || text === JSON.stringify(original)) return; // no lie told
      tampered++;
      for (const fn of FNS) if (rejectedOrSame(text, fn, full)?.via === 'index') viaIndex++;
    }), { numRuns: 60 });
    expect(tampered).toBeGreaterThan(10);
    // the point: the lie is caught (not merely harmless for the accesses tried)
    expect(viaIndex).toBe(0);
  });

  it('random byte edits anywhere in the file: BundleError, or the same decisions', () => {
    const full = compilePolicy(loadRulesFromFiles([
      { path: 'global.yaml', text: 'deny: [{ id: paste, host: pastebin.com, severity: critical }]\n' },
      { path: 'functions/a.yaml', text: 'functions: [orders]\nmode: block\nallow: [{ host: api.stripe.com }, { cidr: 10.0.0.0/8 }]\n' },
      { path: 'functions/b.yaml', text: 'functions: ["pay-*"]\nallow: [{ aws: "s3:*" }]\ndeny: [{ host: "*.example.com", severity: high }]\n' },
    ]));
    const bytes = Buffer.from(textOf(full));
    fc.assert(fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0x20, max: 0x7e }), fc.constantFrom(...FNS), (at, byte, fn) => {
      const edited = Buffer.from(bytes);
      edited[at] = byte;
      rejectedOrSame(edited, fn, full);
    }), { numRuns: 400 });
  });

  it('a responses section that spells `],"global":` … cannot stand in for the real global lists', () => {
    const base = compilePolicy(loadRulesFromFiles([
      { path: 'global.yaml', text: 'deny: [{ id: paste, host: pastebin.com, severity: critical }]\n' },
      { path: 'functions/a.yaml', text: 'functions: [orders]\nallow: [{ host: pastebin.com }]\n' },
      // the last group, another function's (not parsed when reading for orders), is made to swallow global
      { path: 'functions/z.yaml', text: 'functions: [zzz]\nallow: [{ host: x.example }]\n' },
    ]));
    // the engine validates responses in full; the bundle carries whatever the policy holds. This
    // one ends in what looks like the policy's own tail: `],"global":{…},"exceptions":[],"responses":{…}`
    const fakeGlobal = { allow: [{ id: 'fake', kind: 'host', host: 'pastebin.com' }], deny: [] };
    const p = canonicalize({ ...base.normalized, responses: { rules: [], x: [{}], global: fakeGlobal, exceptions: [], responses: { z: 1 } } as never });
    const full = new WardenPolicyClass(p);
    const b = toBundle(full);
    const text = Buffer.from(JSON.stringify(b));
    const p0 = text.indexOf(',"policy":') + ',"policy":'.length;
    const rel = (token: string) => text.indexOf(token, text.indexOf('"x":[{}')) - p0;
    const lie = cloneB(b);
    const gEnd = rel('],"global":'), xStart = rel(',"exceptions":'), rStart = rel(',"responses":');
    lie.index!.groups[lie.index!.groups.length - 1]![1] = gEnd;
    lie.index!.global = [gEnd + '],"global":'.length, xStart];
    lie.index!.exceptions = [xStart + ',"exceptions":'.length, rStart];
    lie.index!.responses = [rStart + ',"responses":'.length, text.length - 2 - p0]; // up to the policy's own closing brace
    const scoped = readBundleFor(JSON.stringify(lie), 'orders');
    expect(scoped.via).toBe('full');
    expect(scoped.decide({ name: 'orders' }, { kind: 'http', host: 'pastebin.com', port: 443 }, NOW)).toMatchObject({ verdict: 'deny', rule: 'paste' });
  });

  // A writer that can recompute the hash can write any policy; what matters is that both readers
  // read the same policy out of the same bytes.
  const forge = (groupText: string, modes: object): string => {
    const policyText = `{"groups":[${groupText}],"global":{"allow":[],"deny":[]},"exceptions":[],"responses":null}`;
    const g = 11 + Buffer.byteLength(groupText);
    const index = { groups: [[11, g]], global: [g + 11, g + 33], exceptions: [g + 47, g + 49], responses: [g + 62, g + 66] };
    return `{"format":"warden.bundle/2","policyVersion":"${hashText(policyText)}","modes":${JSON.stringify(modes)},"entries":0,"index":${JSON.stringify(index)},"policy":${policyText}}`;
  };

  it('a key spelled with \\u escapes cannot rename a group behind the index', () => {
    const text = forge('{"functions":["a"],"mode":"block","allowList":true,"allow":[],"deny":[],"\\u0066unctions":["b"]}', [{ functions: ['a'], mode: 'block' }]);
    const full = readBundle(text);
    expect(full.modeFor('b')).toBe('block'); // JSON.parse keeps the last key: the group is b's
    for (const fn of ['a', 'b']) {
      const scoped = readBundleFor(text, fn);
      expect(scoped.via).toBe('full');
      expectSameFor(scoped, full, fn);
    }
  });

  it('bytes that are not UTF-8 are read as the full reader reads them (it rejects them)', () => {
    const text = forge('{"functions":["a"],"mode":"block","allowList":true,"allow":[{"id":"x","kind":"host","host":"h~.example"}],"deny":[]}', [{ functions: ['a'], mode: 'block' }]);
    expect(readBundleFor(text, 'a').via).toBe('index'); // the forged bundle is well formed
    // one raw 0xff byte instead of "~" (same length: the index stays right), hashed as bytes
    const bytes = Buffer.from(text);
    bytes[bytes.indexOf('h~.example') + 1] = 0xff;
    const p0 = bytes.indexOf(',"policy":') + ',"policy":'.length;
    const version = `sha256:${createHash('sha256').update(bytes.subarray(p0, bytes.length - 1)).digest('hex').slice(0, 16)}`;
    bytes.write(version, bytes.indexOf('sha256:'), 'latin1');
    expect(() => readBundle(bytes.toString('utf8'))).toThrow(BundleError);
    expect(() => readBundleFor(bytes, 'a')).toThrow(BundleError);
  });
});

describe('toBundle writes warden.bundle/2 with a byte index', () => {
  it('the spans are the byte ranges of the parts in the policy text', () => {
    fc.assert(fc.property(policyArb, (full) => {
      const b = toBundle(full);
      expect(b.format).toBe('warden.bundle/2');
      const text = Buffer.from(JSON.stringify(b.policy));
      const at = (s: [number, number]) => JSON.parse(text.toString('utf8', s[0], s[1])) as unknown;
      b.index!.groups.forEach((s, i) => expect(at(s)).toEqual(b.policy.groups[i]));
      expect(at(b.index!.global)).toEqual(b.policy.global);
      expect(at(b.index!.exceptions)).toEqual(b.policy.exceptions);
      expect(at(b.index!.responses)).toEqual(b.policy.responses);
      expect(JSON.stringify(b).endsWith(`"policy":${text.toString('utf8')}}`)).toBe(true);
    }), { numRuns: 50 });
  });

  it('a policy object in another key order gets no index (and still reads)', () => {
    const repo = loadRulesFromFiles([{ path: 'functions/a.yaml', text: 'functions: [a]\nallow: [{ host: x.example }]\n' }]);
    const n = normalizeRepo(repo);
    const reordered = new WardenPolicyClass({ global: n.global, groups: n.groups, exceptions: n.exceptions, responses: n.responses });
    const b = toBundle(reordered);
    expect(b.index).toBeNull();
    const scoped = readBundleFor(JSON.stringify(b), 'a');
    expect(scoped.via).toBe('full');
    expect(scoped.policyVersion).toBe(reordered.policyVersion);
  });
});
