import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { RulesLoadError, type RulesIssue } from './errors';
import {
  FunctionRulesSchema, GlobalRulesSchema, GoldenFileSchema, ResponsesConfigSchema,
  type FunctionRules, type GlobalRules, type GoldenFile, type ResponsesConfig,
} from './schema';
import { parseYaml, validate, type KeyPath } from './yaml-source';

/** A file of the rules repo: `path` relative to the repo root, with `/` separators. */
export interface SourceFile { path: string; text: string }

/** A validated rules file with the line of every list entry (for lint and error messages). */
export interface Located<T> {
  /** as shown to the user (prefixed with the rules dir when loaded from disk) */
  file: string;
  data: T;
  /** 1-based line of `allow[i]` / `deny[i]` / `cases[i]` / `rules[i]`, and of the top-level keys */
  lines: { allow: number[]; deny: number[]; cases: number[]; rules: number[]; keys: Record<string, number> };
}

export interface RulesRepo {
  functions: Located<FunctionRules>[];
  global: Located<GlobalRules> | null;
  responses: Located<ResponsesConfig> | null;
  tests: Located<GoldenFile>[];
  /** other YAML files at the root (escalation.yaml, approvers.yaml, …), validated by their owners */
  extra: (SourceFile & { file: string })[];
  /** files that are not part of the format (reported by lint as a warning) */
  ignored: string[];
}

const YAML_EXT = /\.ya?ml$/;

function classify(path: string): 'function' | 'global' | 'responses' | 'test' | 'extra' | 'ignored' {
  const parts = path.split('/');
  if (!YAML_EXT.test(path)) return 'ignored';
  if (parts.length === 2 && parts[0] === 'functions') return 'function';
  if (parts.length === 2 && parts[0] === 'tests') return 'test';
  if (parts.length === 1) {
    if (/^global\.ya?ml$/.test(path)) return 'global';
    if (/^responses\.ya?ml$/.test(path)) return 'responses';
    return 'extra';
  }
  return 'ignored';
}

function linesOf(lineOf: (p: KeyPath, k?: string) => number, value: unknown): Located<unknown>['lines'] {
  const o = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const list = (k: string) => (Array.isArray(o[k]) ? (o[k] as unknown[]).map((_, i) => lineOf([k, i])) : []);
  const keys: Record<string, number> = {};
  for (const k of Object.keys(o)) keys[k] = lineOf([], k);
  return { allow: list('allow'), deny: list('deny'), cases: list('cases'), rules: list('rules'), keys };
}

/**
 * Loads a rules repo from in-memory files (a git ref, a test, a bundle build). Collects every
 * problem of every file before throwing one RulesLoadError.
 */
export function loadRulesFromFiles(files: SourceFile[], opts: { displayRoot?: string } = {}): RulesRepo {
  const issues: RulesIssue[] = [];
  const repo: RulesRepo = { functions: [], global: null, responses: null, tests: [], extra: [], ignored: [] };
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of sorted) {
    const rel = f.path.replace(/\\/g, '/').replace(/^\.\//, '');
    const file = opts.displayRoot ? posix.join(opts.displayRoot.replace(/\\/g, '/'), rel) : rel;
    const kind = classify(rel);
    if (kind === 'ignored') { repo.ignored.push(file); continue; }
    if (kind === 'extra') { repo.extra.push({ ...f, path: rel, file }); continue; }
    const parsed = parseYaml(file, f.text, issues);
    if (!parsed) continue;
    const value = parsed.value ?? (kind === 'global' || kind === 'responses' ? {} : null);
    if (value === null) {
      issues.push({ file, line: 1, path: '', message: kind === 'function' ? 'empty file: a function rules file needs "functions:" and an "allow:" or "deny:" list' : 'empty file: a test file needs "cases:"' });
      continue;
    }
    const lines = linesOf(parsed.source.lineOf, value);
    switch (kind) {
      case 'function': {
        const data = validate(FunctionRulesSchema, value, parsed.source, issues);
        if (data) repo.functions.push({ file, data, lines });
        break;
      }
      case 'global': {
        const data = validate(GlobalRulesSchema, value, parsed.source, issues);
        if (data) repo.global = { file, data, lines };
        break;
      }
      case 'responses': {
        const data = validate(ResponsesConfigSchema, value, parsed.source, issues);
        if (data) repo.responses = { file, data, lines };
        break;
      }
      case 'test': {
        const data = validate(GoldenFileSchema, value, parsed.source, issues);
        if (data) repo.tests.push({ file, data, lines });
        break;
      }
    }
  }
  if (issues.length > 0) throw new RulesLoadError(issues);
  return repo;
}

async function walk(root: string, rel: string, out: SourceFile[], depth: number): Promise<void> {
  if (depth > 3) return;
  const entries = await readdir(join(root, rel), { withFileTypes: true });
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    if (e.isDirectory()) {
      // one level of folders: functions/, tests/ — and misplaced YAML elsewhere, reported as ignored
      if (depth === 0) await walk(root, r, out, depth + 1);
      continue;
    }
    if (e.isFile() && YAML_EXT.test(e.name)) out.push({ path: r, text: await readFile(join(root, r), 'utf8') });
  }
}

/** Loads `dir` (global.yaml, responses.yaml, functions/*.yaml, tests/*.yaml and the other root YAML files). */
export async function loadRulesDir(dir: string): Promise<RulesRepo> {
  let st;
  try {
    st = await stat(dir);
  } catch (cause) {
    throw new RulesLoadError([{ file: dir, line: 1, path: '', message: 'no such rules directory; pass the folder that holds global.yaml and functions/' }], { cause });
  }
  if (!st.isDirectory()) throw new RulesLoadError([{ file: dir, line: 1, path: '', message: 'not a directory; pass the rules folder, not a file' }]);
  const files: SourceFile[] = [];
  await walk(dir, '', files, 0);
  const repo = loadRulesFromFiles(files, { displayRoot: dir });
  if (repo.functions.length === 0 && repo.global === null) {
    throw new RulesLoadError([{ file: dir, line: 1, path: '', message: 'no rules found: expected global.yaml and/or functions/*.yaml' }]);
  }
  return repo;
}
