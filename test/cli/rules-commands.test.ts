import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBundle, runGolden, runLint, runSchema } from '../../engine/cli/commands/rules';
import { readBundle } from '../../engine/policy';
import { readBundleFor } from '../../engine/policy/bundle';
import { collector, rulesDir } from './helpers';

describe('warden rules lint', () => {
  it('the shipped rules are clean', async () => {
    const io = collector();
    expect(await runLint('rules', io)).toBe(0);
    expect(io.stdout).toEqual([]);
    expect(io.stderr.join('\n')).toMatch(/0 errors, 0 warnings/);
  });
  it('reports schema errors and unknown keys as file:line: error lines, exit 1', async () => {
    const dir = rulesDir({ 'functions/a.yaml': 'functions: [a]\nallow:\n  - hots: a.com\n  - host: "b.*.com"\n' });
    const io = collector();
    expect(await runLint(dir, io)).toBe(1);
    expect(io.stdout).toEqual([
      `${dir}/functions/a.yaml:3: error: allow[0].hots: unknown key "hots"; did you mean "host"?`,
      `${dir}/functions/a.yaml:4: error: allow[1].host: only a leading "*." wildcard is supported (like "*.example.com")`,
    ]);
  });
  it('finds duplicate ids, shadowed allows, duplicates, expired entries, conflicting modes and stray files', async () => {
    const dir = rulesDir({
      'global.yaml': 'deny:\n  - { id: no-paste, host: "*.pastebin.com", severity: critical }\n  - { id: imds, cidr: 169.254.0.0/16 }\n',
      'functions/a.yaml': [
        'functions: [a]', 'mode: block', 'allow:',
        '  - { id: paste, host: www.pastebin.com }', // 4 shadowed by global
        '  - { id: meta, cidr: 169.254.169.254/32 }', // 5 shadowed
        '  - { id: s3, aws: "s3:GetObject", resource: "arn:aws:s3:::b/*" }', // 6 shadowed by local deny
        '  - { id: dup, host: api.example.com }', // 7
        '  - { host: API.example.com. }', // 8 exact duplicate
        '  - { id: old, host: old.example.com, expires: 2026-01-31 }', // 9 expired
        '  - { id: no-paste, host: other.example.com }', // 10 duplicate id
        '  - { id: partial, host: "*.example.org" }', // 11 partially overlapped: fine
        'deny:',
        '  - { id: no-s3-b, aws: "s3:*", resource: "arn:aws:s3:::b/*" }',
        '  - { id: one-org, host: x.example.org }',
      ].join('\n') + '\n',
      'functions/b.yaml': 'functions: [a]\nmode: monitor\ndeny: []\n',
      'function/c.yaml': 'functions: [c]\n',
      'misc.yaml': 'x: 1\n',
    });
    const io = collector();
    expect(await runLint(dir, io)).toBe(1);
    const f = `${dir}/functions/a.yaml`;
    expect(io.stdout).toEqual(expect.arrayContaining([
      expect.stringMatching(new RegExp(`^${f}:4: error: allow entry "paste" can never apply: deny "no-paste"`)),
      expect.stringMatching(new RegExp(`^${f}:5: error: allow entry "meta" can never apply: deny "imds"`)),
      expect.stringMatching(new RegExp(`^${f}:6: error: allow entry "s3" can never apply: deny "no-s3-b"`)),
      expect.stringMatching(new RegExp(`^${f}:8: warning: allow entry duplicates ${f}:7`)),
      expect.stringMatching(new RegExp(`^${f}:9: warning: allow entry "old" expired on 2026-01-31`)),
      expect.stringMatching(new RegExp(`^${f}:10: error: id "no-paste" is already used by a different entry`)),
      expect.stringMatching(/functions\/b\.yaml:2: warning: "a" gets mode monitor here but block/),
      expect.stringMatching(/function\/c\.yaml:1: warning: not part of the rules format/),
      expect.stringMatching(/misc\.yaml:1: warning: not a known rules file/),
    ]));
    expect(io.stdout.join('\n')).not.toMatch(/partial/);
    expect(io.stdout).toHaveLength(9);
  });
  it('validates escalation.yaml and approvers.yaml with their schemas', async () => {
    const dir = rulesDir({ 'global.yaml': 'deny: []\n', 'escalation.yaml': 'tierz: []\n' });
    const io = collector();
    expect(await runLint(dir, io)).toBe(1);
    expect(io.stdout.join('\n')).toMatch(/escalation\.yaml:1: error: .*tierz/);
  });
});

describe('warden rules test', () => {
  it('runs the shipped golden cases', async () => {
    const io = collector();
    expect(await runGolden('rules', io)).toBe(0);
    expect(io.stdout.at(-1)).toMatch(/^\d+ passed, 0 failed/);
  });
  it('exit 1 on a mismatch, with the diff', async () => {
    const dir = rulesDir({
      'functions/a.yaml': 'functions: [a]\nallow:\n  - { id: x, host: a.com }\n',
      'tests/t.yaml': 'cases:\n  - name: ok\n    event: { function: { name: a }, access: { kind: http, host: a.com } }\n    expect: { verdict: allow, rule: x }\n  - name: wrong\n    event: { function: { name: a }, access: { kind: http, host: b.com } }\n    expect: { verdict: allow, response: none }\n',
    });
    const io = collector();
    expect(await runGolden(dir, io)).toBe(1);
    expect(io.stdout).toEqual([
      `ok   ${dir}/tests/t.yaml:2 ok`,
      `FAIL ${dir}/tests/t.yaml:5 wrong`,
      '       verdict: expected "allow", got "unlisted"',
      '       response: expected "none", got "approve"',
      expect.stringMatching(/^1 passed, 1 failed/),
    ]);
  });
  it('exit 1 with file:line errors when the rules do not load', async () => {
    const dir = rulesDir({ 'global.yaml': 'deny:\n  - hots: a.com\n' });
    const io = collector();
    expect(await runGolden(dir, io)).toBe(1);
    expect(io.stderr[0]).toBe(`${dir}/global.yaml:2: error: deny[0].hots: unknown key "hots"; did you mean "host"?`);
  });
});

describe('warden rules bundle / schema', () => {
  it('writes a bundle that loads with the same policyVersion', async () => {
    const dir = rulesDir({});
    const out = join(dir, 'out', 'policy.json');
    const io = collector();
    expect(await runBundle('rules', out, io)).toBe(0);
    const b = readBundle(readFileSync(out, 'utf8'));
    expect(io.stdout[0]).toContain(b.policyVersion);
    expect(JSON.parse(readFileSync(out, 'utf8')).format).toBe('warden.bundle/2');
    // the agent's reader finds the function's part through the index (no fallback to a full read)
    expect(readBundleFor(readFileSync(out), 'orders-api').via).toBe('index');
  });
  it('the committed JSON Schema is up to date', async () => {
    const io = collector();
    expect(await runSchema('function', undefined, io)).toBe(0);
    expect(`${io.stdout.join('\n')}\n`).toBe(readFileSync('rules/schema/rules-file.schema.json', 'utf8'));
    expect(JSON.parse(io.stdout.join('\n')).properties.allow.items.additionalProperties).toBe(false);
  });
});

describe('warden rules lint: shadowing across files', () => {
  it('a deny in another file that names all the allow\'s functions shadows it; a narrower one does not', async () => {
    const dir = rulesDir({
      'functions/a.yaml': 'functions: [pay-1, pay-2]\nallow:\n  - { id: s3-all, aws: "s3:*" }\n  - { id: sqs, aws: "sqs:SendMessage" }\n',
      'functions/b.yaml': 'functions: ["pay-*"]\ndeny:\n  - { id: no-s3, aws: "s3:*" }\n',
      'functions/c.yaml': 'functions: [pay-1]\ndeny:\n  - { id: no-sqs, aws: "sqs:*" }\n',
    });
    const io = collector();
    expect(await runLint(dir, io)).toBe(1);
    expect(io.stdout).toEqual([expect.stringMatching(/a\.yaml:3: error: allow entry "s3-all" can never apply: deny "no-s3"/)]);
  });
});
