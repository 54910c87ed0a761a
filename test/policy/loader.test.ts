import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRulesDir, loadRulesFromFiles, RulesLoadError, ruleIdFor, type RulesIssue } from '../../engine/policy';

function issuesOf(files: Record<string, string>): RulesIssue[] {
  expect.hasAssertions();
  try {
    loadRulesFromFiles(Object.entries(files).map(([path, text]) => ({ path, text })));
  } catch (err) {
    expect(err).toBeInstanceOf(RulesLoadError);
    return (err as RulesLoadError).issues;
  }
  throw new Error('expected a RulesLoadError');
}

describe('loader errors carry file, line and key path', () => {
  it('an unknown key (typo) is an error with a suggestion', () => {
    const issues = issuesOf({ 'functions/a.yaml': 'functions: [a]\nallow:\n  - id: x\n    host: a.com\n  - hots: b.com\n' });
    expect(issues).toContainEqual({ file: 'functions/a.yaml', line: 5, path: 'allow[1].hots', message: 'unknown key "hots"; did you mean "host"?' });
  });
  it('a bad value points at its key', () => {
    const issues = issuesOf({ 'functions/a.yaml': 'functions: [a]\ndeny:\n  - host: a.com\n  - host: "a.*.com"\n  - host: b.com\n    severity: urgent\n' });
    expect(issues.map((i) => [i.line, i.path])).toEqual(expect.arrayContaining([[4, 'deny[1].host'], [6, 'deny[2].severity']]));
    expect(issues.find((i) => i.path === 'deny[1].host')!.message).toMatch(/leading "\*\."/);
  });
  it('an entry with two kinds or none is an error', () => {
    const issues = issuesOf({ 'global.yaml': 'allow:\n  - host: a.com\n    cidr: 10.0.0.0/8\n  - id: nothing\n' });
    expect(issues.map((i) => i.line)).toEqual([2, 4]);
  });
  it.each([
    ['cidr: 10.0.0.1/8', /host bits/],
    ['cidr: 300.0.0.0/8', /not an IPv4 or IPv6/],
    ['aws: dynamodb', /service:Action/],
    ['aws: "dynamo db:Get"', /not an AWS service/],
    ['{ aws: "s3:*", resource: "bucket/*" }', /ARN/],
    ['{ host: a.com, resource: "arn:x" }', /only goes with "aws"/],
    ['{ host: "a.com", expires: 2026-02-30 }', /calendar date/],
    ['host: "*.com"', /top-level domain/],
  ])('rejects %s', (entry, re) => {
    const issues = issuesOf({ 'global.yaml': `allow:\n  - ${entry}\n` });
    expect(issues.map((i) => i.message).join('\n')).toMatch(re);
  });
  it('severity is for deny entries only', () => {
    expect(issuesOf({ 'global.yaml': 'allow:\n  - { host: a.com, severity: high }\n' })[0]!.message).toMatch(/unknown key "severity"/);
  });
  it('malformed YAML reports the line', () => {
    const issues = issuesOf({ 'functions/a.yaml': 'functions: [a]\nallow:\n  - host: a.com\n   bad: [\n' });
    expect(issues[0]!.file).toBe('functions/a.yaml');
    expect(issues[0]!.message).toMatch(/^YAML: /);
  });
  it('duplicate keys, aliases and prototype-pollution keys are rejected', () => {
    expect(issuesOf({ 'global.yaml': 'allow: []\nallow: []\n' })[0]!.message).toMatch(/YAML/);
    expect(issuesOf({ 'global.yaml': 'x: &a [1]\nallow: *a\n' }).map((i) => i.message).join()).toMatch(/aliases/);
    for (const k of ['__proto__', 'constructor', 'prototype']) {
      const issues = issuesOf({ 'global.yaml': `allow:\n  - host: a.com\n    ${k}: { polluted: true }\n` });
      expect(issues[0]).toMatchObject({ line: 3, message: expect.stringContaining(k) });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('a huge file is rejected without parsing it', () => {
    const issues = issuesOf({ 'global.yaml': `allow:\n${'  - host: a.com\n'.repeat(300_000)}` });
    expect(issues[0]!.message).toMatch(/larger than/);
  });
  it('collects errors of every file', () => {
    const issues = issuesOf({ 'functions/a.yaml': 'functions: []\n', 'functions/b.yaml': 'mode: fast\n', 'tests/t.yaml': 'cases: []\n' });
    expect(new Set(issues.map((i) => i.file))).toEqual(new Set(['functions/a.yaml', 'functions/b.yaml', 'tests/t.yaml']));
  });
});

describe('loadRulesDir', () => {
  it('loads the layout and prefixes file names with the dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-rules-'));
    mkdirSync(join(dir, 'functions'));
    writeFileSync(join(dir, 'global.yaml'), 'deny:\n  - host: a.com\n');
    writeFileSync(join(dir, 'functions', 'x.yaml'), 'functions: [x]\nallow:\n  - hots: b.com\n');
    writeFileSync(join(dir, 'notes.txt'), 'hi');
    mkdirSync(join(dir, 'function'));
    writeFileSync(join(dir, 'function', 'typo.yaml'), 'functions: [y]\n');
    await expect(loadRulesDir(dir)).rejects.toMatchObject({ name: 'RulesLoadError', issues: [{ file: `${dir}/functions/x.yaml`, line: 3, path: 'allow[0].hots' }] });
    writeFileSync(join(dir, 'functions', 'x.yaml'), 'functions: [x]\nallow:\n  - host: b.com\n');
    const repo = await loadRulesDir(dir);
    expect(repo.functions).toHaveLength(1);
    expect(repo.functions[0]!.lines.allow).toEqual([3]);
    expect(repo.ignored).toEqual([`${dir}/function/typo.yaml`]);
  });
  it('a missing dir is a clear error', async () => {
    await expect(loadRulesDir('/nonexistent/rules')).rejects.toThrow(/no such rules directory/);
  });
});

describe('ruleIdFor', () => {
  it('derives stable readable ids', () => {
    expect(ruleIdFor({ host: 'API.Stripe.com.' })).toBe('host:api.stripe.com');
    expect(ruleIdFor({ host: '*.ngrok.io', port: 443 })).toBe('host:*.ngrok.io:443');
    expect(ruleIdFor({ aws: 'DynamoDB:GetItem', resource: 'arn:aws:dynamodb:us-east-1:1:table/t' })).toBe('aws:dynamodb:getitem@arn:aws:dynamodb:us-east-1:1:table/t');
    expect(ruleIdFor({ cidr: '::ffff:10.0.0.0/104' })).toBe('cidr:10.0.0.0/8');
    expect(ruleIdFor({ id: 'mine', host: 'a.com' })).toBe('mine');
  });
});
