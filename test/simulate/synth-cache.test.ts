import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthInputsHash } from '../../engine/local/simulate/synth';

let root: string;
let rules: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'warden-synth-cache-'));
  rules = join(root, 'my-rules');
  for (const d of ['infra', 'engine/policy', 'workflows', 'my-rules/functions']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'infra/warden.ts'), 'export const a = 1;');
  writeFileSync(join(root, 'engine/policy/compile.ts'), 'export const b = 2;');
  writeFileSync(join(root, 'package-lock.json'), '{}');
  writeFileSync(join(rules, 'functions/a.yaml'), 'functions: [a]\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the synthesized-template cache key', () => {
  it('is stable while nothing changes', () => {
    expect(synthInputsHash(root, rules)).toBe(synthInputsHash(root, rules));
  });

  it.each([
    ['a source file', () => writeFileSync(join(root, 'engine/policy/compile.ts'), 'export const b = 3;')],
    ['a new source file', () => writeFileSync(join(root, 'workflows/new.ts'), '')],
    ['the lock file', () => writeFileSync(join(root, 'package-lock.json'), '{"x":1}')],
    ['a rules file', () => writeFileSync(join(rules, 'functions/a.yaml'), 'functions: [a]\nmode: block\n')],
    ['a renamed rules file', () => { rmSync(join(rules, 'functions/a.yaml')); writeFileSync(join(rules, 'functions/b.yaml'), 'functions: [a]\n'); }],
  ])('changes with %s', (_what, change) => {
    const before = synthInputsHash(root, rules);
    change();
    expect(synthInputsHash(root, rules)).not.toBe(before);
  });

  it('ignores what cannot change the template (tests, dot-directories)', () => {
    const before = synthInputsHash(root, rules);
    mkdirSync(join(root, 'test'));
    writeFileSync(join(root, 'test/x.test.ts'), '');
    mkdirSync(join(root, 'engine/.cache'));
    writeFileSync(join(root, 'engine/.cache/x'), '');
    expect(synthInputsHash(root, rules)).toBe(before);
  });
});
