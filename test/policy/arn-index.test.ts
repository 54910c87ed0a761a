import fc from 'fast-check';
import { compilePolicy, hashPolicy, normalizeRepo, type Located, type RulesRepo } from '../../engine/policy';
import { hashText } from '../../engine/policy/compile';
import { globMatch, globMatchFrom, literalPrefix } from '../../engine/policy/glob';
import { isLabel, isLabelRegex } from '../../engine/policy/patterns';
import type { FunctionRules } from '../../engine/policy/schema';
import { NOW } from './helpers';

/**
 * The ARN index (a prefix tree over each glob's literal prefix, with only the rest of the glob
 * compared, and nothing compared for a `prefix*` glob) must decide exactly what checking every
 * entry's whole glob against the ARN decides.
 */
const repoOf = (allow: { id: string; resource: string }[], deny: { id: string; resource: string }[]): RulesRepo => {
  const file: Located<FunctionRules> = {
    file: 'functions/f.yaml',
    data: { functions: ['f'], mode: 'block', allow: allow.map((a) => ({ ...a, aws: 's3:*' })), deny: deny.map((d) => ({ ...d, aws: 's3:Get*', severity: 'high' as const })) },
    lines: { allow: [], deny: [], cases: [], rules: [], keys: {} },
  };
  return { functions: [file], global: null, responses: null, tests: [], extra: [], ignored: [] };
};

const ARN = 'arn:aws:s3:::';
const chars = fc.constantFrom('a', 'b', '/', '*', '?');
const glob = fc.array(chars, { maxLength: 6 }).map((cs) => ARN + cs.join(''));
const arn = fc.array(fc.constantFrom('a', 'b', '/', '*', '?'), { maxLength: 7 }).map((cs) => ARN + cs.join(''));

describe('ARN glob index', () => {
  it('globMatchFrom(p, s, k) equals globMatch(p, s) when s starts with the literal prefix of p', () => {
    const tail = fc.array(fc.constantFrom('a', 'b', '/', '*', '?'), { maxLength: 5 }).map((cs) => cs.join(''));
    fc.assert(fc.property(glob, tail, (p, t) => {
      const pre = literalPrefix(p);
      const s = pre + t;
      const whole = globMatch(p, s);
      for (let k = 0; k <= pre.length; k++) if (globMatchFrom(p, s, k) !== whole) return false;
      return true;
    }), { numRuns: 2000 });
  });

  it('decide agrees with a brute-force scan of every entry', () => {
    const entries = fc.uniqueArray(glob, { maxLength: 6 });
    fc.assert(fc.property(entries, entries, fc.array(arn, { minLength: 1, maxLength: 8 }), fc.constantFrom('GetObject', 'PutObject'), (allowGlobs, denyGlobs, arns, action) => {
      const allow = allowGlobs.map((resource, i) => ({ id: `a${i}`, resource }));
      const deny = denyGlobs.map((resource, i) => ({ id: `d${i}`, resource }));
      const p = compilePolicy(repoOf(allow, deny));
      for (const resource of arns) {
        const v = p.decide({ name: 'f' }, { kind: 'aws', service: 's3', action, resource }, NOW);
        const denied = action === 'GetObject' ? deny.filter((d) => globMatch(d.resource, resource)).map((d) => d.id).sort() : [];
        const allowed = allow.filter((a) => globMatch(a.resource, resource)).map((a) => a.id).sort();
        const expected = denied.length > 0 ? { verdict: 'deny', rule: denied[0] } : allowed.length > 0 ? { verdict: 'allow', rule: allowed[0] } : { verdict: 'unlisted', rule: null };
        expect({ verdict: v.verdict, rule: v.rule }).toEqual(expected);
      }
    }), { numRuns: 1000 });
  });
});

describe('host pattern labels', () => {
  it('isLabel agrees with the DNS label regex', () => {
    const label = fc.array(fc.constantFrom('a', 'z', '0', '9', '-', '_', 'A', '.', '*', 'é', ' '), { maxLength: 66 }).map((cs) => cs.join(''));
    fc.assert(fc.property(label, (l) => isLabel(`x.${l}.y`, 2, 2 + l.length) === isLabelRegex(l)), { numRuns: 3000 });
    expect(isLabel('a'.repeat(63), 0, 63)).toBe(true);
    expect(isLabel('a'.repeat(64), 0, 64)).toBe(false);
    expect(isLabel('', 0, 0)).toBe(false);
    expect(isLabel('-a', 0, 2)).toBe(false);
  });
});

describe('policy hash', () => {
  it('hashPolicy hashes exactly the canonical JSON text (streamed per group)', () => {
    const entries = fc.uniqueArray(glob, { maxLength: 4 });
    fc.assert(fc.property(entries, entries, (a, d) => {
      const n = normalizeRepo(repoOf(a.map((resource, i) => ({ id: `a${i}`, resource })), d.map((resource, i) => ({ id: `d${i}`, resource }))));
      return hashPolicy(n) === hashText(JSON.stringify(n));
    }), { numRuns: 200 });
    const n = normalizeRepo(repoOf([{ id: 'é\u{1F600}', resource: `${ARN}x` }], []));
    expect(hashPolicy(n)).toBe(hashText(JSON.stringify(n)));
    const empty = normalizeRepo({ functions: [], global: null, responses: null, tests: [], extra: [], ignored: [] });
    expect(hashPolicy(empty)).toBe(hashText(JSON.stringify(empty)));
  });
});
