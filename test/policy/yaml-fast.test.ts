import fc from 'fast-check';
import { renderRulesFile } from '../../engine/learn/yaml-writer';
import type { LearnedEntry } from '../../engine/learn/propose';
import type { RulesIssue } from '../../engine/policy/errors';
import { loadRulesFromFiles } from '../../engine/policy/loader';
import { parseFastYaml, parseYaml, parseYamlFully } from '../../engine/policy/yaml-source';
import { FastPathCounter, mutatedText } from '../fast-path';

/**
 * The rules loader's fast path (parseFastYaml) against the YAML parser: whatever text the fast
 * path takes, the parser reads without an issue, to the same value, with the same line for every
 * top-level key and list entry.
 */
const taken = new FastPathCounter();

function agrees(text: string): void {
  taken.all++;
  const fast = parseFastYaml(text);
  if (fast === null) return;
  taken.fast++;
  const issues: RulesIssue[] = [];
  const full = parseYamlFully('f.yaml', text, issues);
  expect(issues).toEqual([]);
  expect(full).toBeDefined();
  expect(fast.value).toEqual(full!.value);
  for (const [k, line] of fast.keyLines) expect(line).toBe(full!.source.lineOf([], k));
  for (const [k, lines] of fast.itemLines) lines.forEach((line, i) => expect(line).toBe(full!.source.lineOf([k, i])));
  // and parseYaml (fast path) answers every other line question as the parser does
  const viaFast = parseYaml('f.yaml', text, [])!;
  for (const [k, lines] of fast.itemLines) {
    lines.forEach((_, i) => expect(viaFast.source.lineOf([k, i], 'resource')).toBe(full!.source.lineOf([k, i], 'resource')));
  }
}


const tricky = fc.oneof(
  fc.stringMatching(/^[\w.:/*-]{0,12}$/),
  fc.constantFrom('', 'a"b', 'a\\b', '#', ' # x', 'a: b', '- x', '\t', '\u0001', '\u007f', '\u0085', 'é', '\u2028', '\ufeff', '\ud800', "'", '{', '[', '&a', '*a', '!t', '%'),
);
const seen = fc.record({ count: fc.nat(), first: fc.integer({ min: 0, max: 4e12 }), last: fc.integer({ min: 0, max: 4e12 }) });
const entry: fc.Arbitrary<LearnedEntry> = fc.oneof(
  fc.record({ kind: fc.constant('aws' as const), aws: tricky, resource: fc.option(tricky, { nil: null }), seen }),
  fc.record({ kind: fc.constant('host' as const), host: tricky, seen, covers: fc.option(fc.array(tricky, { maxLength: 3 }), { nil: undefined }) }),
  fc.record({ kind: fc.constant('cidr' as const), cidr: tricky, port: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null }), seen, note: fc.option(tricky, { nil: undefined }) }),
);
const learned = fc.record({
  comment: fc.array(tricky, { maxLength: 3 }),
  functions: fc.array(tricky, { minLength: 1, maxLength: 3 }),
  mode: fc.constantFrom('monitor' as const, 'block' as const, null),
  entries: fc.array(entry, { maxLength: 5 }),
}).map(({ entries, ...header }) => renderRulesFile(header, entries));

// hand-written-looking files: the constructs around the edge of the fast path's subset
const key = fc.constantFrom('functions', 'mode', 'allow', 'deny', 'aws', 'host', 'resource', 'port', 'id', 'True', 'true', 'null', '__proto__', 'a_b', 'k9', 'x-y');
const scalar = fc.oneof(
  tricky.map((s) => JSON.stringify(s)),
  fc.constantFrom('monitor', 'block', 'true', 'True', 'false', 'null', 'Null', '~', 'yes', 'no', 'on', 'off', 'y', 'n', '0', '00', '07', '0x1f', '0o7', '1e3', '-1', '+1',
    '443', '123456789012345', '1234567890123456', '.inf', '.nan', 'a-b', 'a_b', 'a b', 'a #b', 'a: b', "'q'", '"a" # c', '"a" ', '[]', '["a"]', '["a","b"]', '["a", "b"]',
    '[a, b]', '{}', '{a: 1}', '&x a', '*x', '!!str 1', '|', '>', ''),
);
const line = fc.oneof(
  fc.tuple(key, scalar).map(([k, v]) => `${k}: ${v}`),
  key.map((k) => `${k}:`),
  fc.tuple(fc.constantFrom('', ' ', '  ', '   ', '    '), key, scalar).map(([i, k, v]) => `${i}- ${k}: ${v}`),
  fc.tuple(fc.constantFrom('', ' ', '  ', '    ', '      '), key, scalar).map(([i, k, v]) => `${i}${k}: ${v}`),
  fc.constantFrom('', ' ', '# c', '  # c', '#', '---', '...', '%YAML 1.1', '- "x"', '  - "x"', '\t- a: b', 'a:\tb', 'k: v\r'),
);
const goodKey = fc.constantFrom('functions', 'mode', 'allow', 'deny', 'aws', 'host', 'resource', 'port', 'id', 'a_b', 'k9');
const goodScalar = fc.oneof(fc.stringMatching(/^[\w.:/*-]{0,12}$/).map((s) => JSON.stringify(s)), fc.constantFrom('monitor', 'block', '443', '0', 'a-b', '["a", "b"]', '[]'));
const filler = fc.constantFrom('', '# c', '  # c', '      # deep comment');
const block = fc.oneof(
  fc.tuple(goodKey, goodScalar).map(([k, v]) => [`${k}: ${v}`]),
  fc.tuple(goodKey, fc.constantFrom('', ' ', '  ', '    '), fc.array(fc.array(fc.tuple(goodKey, goodScalar), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }), filler)
    .map(([k, ind, items, f]) => [`${k}:`, ...items.flatMap((kvs) => kvs.map(([ik, v], j) => `${ind}${j === 0 ? '- ' : '  '}${ik}: ${v}`).concat(f))]),
);
// mostly well-formed blocks, now and then a line from the edge cases above
const handWritten = fc.array(fc.oneof({ arbitrary: block, weight: 6 }, { arbitrary: line.map((l) => [l]), weight: 1 }, { arbitrary: filler.map((l) => [l]), weight: 1 }), { minLength: 1, maxLength: 6 })
  .map((bs) => bs.flat().join('\n'));
const mutated = mutatedText(fc.oneof(learned, handWritten), [' ', '\n', '-', ':', '"', '#', '[', 'a', '0', '\t', '\\']);

describe('rules loader fast path (parseFastYaml) vs the YAML parser', () => {
  it('agrees on the files learn writes (value, key and entry lines)', () => {
    expect(taken.share(() => fc.assert(fc.property(learned, agrees), { numRuns: 1500 }))).toBeGreaterThan(0.2);
  });

  it('agrees on hand-written lines around the edge of its subset', () => {
    expect(taken.share(() => fc.assert(fc.property(handWritten, agrees), { numRuns: 4000 }))).toBeGreaterThan(0.15);
  });

  it('agrees on character-level mutations', () => {
    expect(taken.share(() => fc.assert(fc.property(mutated, agrees), { numRuns: 4000 }))).toBeGreaterThan(0.05);
  });

  it('still reports schema errors with their file and line (from the full parser)', () => {
    const text = '# learned\nfunctions: ["f"]\nmode: monitor\nallow:\n  - aws: "s3:GetObject"\n    resource: "arn:aws:s3:::b/k"\n  - aws: "s3:GetObject"\n    resourse: "x"\n';
    expect(parseFastYaml(text)).not.toBeNull();
    expect(() => loadRulesFromFiles([{ path: 'functions/f.yaml', text }])).toThrow(/functions\/f\.yaml:8.*unknown key "resourse"; did you mean "resource"/s);
  });

  it('refuses duplicate and reserved keys (the parser reports them)', () => {
    expect(parseFastYaml('mode: monitor\nmode: block\n')).toBeNull();
    expect(parseFastYaml('allow:\n  - host: "a"\n    host: "b"\n')).toBeNull();
    expect(parseFastYaml('allow:\n  - __proto__: "a"\n')).toBeNull();
    expect(() => loadRulesFromFiles([{ path: 'functions/f.yaml', text: 'functions: ["f"]\nmode: monitor\nmode: block\nallow: []\n' }])).toThrow(/functions\/f\.yaml:3/);
  });
});
