import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import type { RulesIssue } from './errors';

/**
 * YAML → validated data with file:line errors. Keeps the parsed document so any key path
 * (`allow[2].host`) can be mapped back to its line.
 */
export const MAX_RULES_FILE_BYTES = 4 * 1024 * 1024;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type KeyPath = (string | number)[];

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

export interface YamlSource {
  file: string;
  doc: Document | null;
  lineOf(path: KeyPath, key?: string): number;
}

function lineLocator(doc: Document, lc: LineCounter): (path: KeyPath, key?: string) => number {
  return (path, key) => {
    // walk as far as the path exists; report the deepest node found
    let node: unknown = doc.contents;
    let best = 1;
    const at = (n: unknown) => {
      const r = (n as Node | null)?.range;
      if (r) best = lc.linePos(r[0]).line;
    };
    at(node);
    for (const p of path) {
      if (isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) && it.key.value === p);
        if (!pair) break;
        at(pair.key);
        node = pair.value;
        if (node) at(node);
      } else if (isSeq(node) && typeof p === 'number') {
        node = node.items[p];
        if (!node) break;
        at(node);
      } else break;
    }
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === key);
      if (pair) at(pair.key);
    }
    return best;
  };
}

/*
 * A fast path for the plain shape most rules files have (and every file `warden learn` writes):
 * top-level `key: scalar`, `key: ["a", "b"]`, and `key:` followed by a block list of flat maps
 * (`  - aws: "s3:GetObject"` / `    resource: "arn:..."`), full-line comments, empty lines.
 * Scalars: double-quoted strings without escapes, lower-case plain words (not true/false/null),
 * plain decimal integers. Such text means the same in YAML 1.2 as here, so the value is the one
 * the YAML parser would give; anything else (another construct, a tab, a CR, a duplicate or
 * reserved key, a trailing comment) returns null and takes the full parser. Line numbers of
 * top-level keys and list entries come from the scan; any other line (only asked for when a
 * schema error is reported) comes from the full parser, run then. Property-tested against the
 * full parser (test/policy/yaml-fast.test.ts).
 */
const KEY = '[a-z][A-Za-z0-9_]*';
const TOP_KV = new RegExp(`^(${KEY}): (.+)$`);
const TOP_K = new RegExp(`^(${KEY}):$`);
const ITEM = new RegExp(`^( *)- (${KEY}): (.+)$`);
const CONT = new RegExp(`^( +)(${KEY}): (.+)$`);
const COMMENT = /^ *#/;
// eslint-disable-next-line no-control-regex
const QUOTED = /^"([^"\\\x00-\x1f]*)"$/;
const INT = /^(?:0|[1-9][0-9]{0,14})$/;
const WORD = /^[a-z][a-z0-9_-]*$/;
// eslint-disable-next-line no-control-regex
const FLOW = /^\[(?:"[^"\\\x00-\x1f]*"(?:, "[^"\\\x00-\x1f]*")*)?\]$/;
const NOT_STRINGS = new Set(['true', 'false', 'null']);
// anything YAML treats specially or may refuse (tabs, CR, controls, non-printables, BOM, line separators)
// eslint-disable-next-line no-control-regex
const ODD_CHARACTER = /[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff\u2028\u2029]/;
const NO_VALUE = Symbol('no value');

function fastScalar(v: string, flow: boolean): unknown {
  let m: RegExpExecArray | null;
  if ((m = QUOTED.exec(v)) !== null) return m[1];
  if (INT.test(v)) return Number(v);
  if (WORD.test(v) && !NOT_STRINGS.has(v)) return v;
  if (flow && FLOW.test(v)) return JSON.parse(v) as string[];
  return NO_VALUE;
}

interface FastYaml { value: Record<string, unknown>; keyLines: Map<string, number>; itemLines: Map<string, number[]> }

export function parseFastYaml(text: string): FastYaml | null {
  if (ODD_CHARACTER.test(text)) return null;
  const lines = text.split('\n');
  const value: Record<string, unknown> = {};
  const keyLines = new Map<string, number>();
  const itemLines = new Map<string, number[]>();
  const taken = (o: object, k: string): boolean => RESERVED_KEYS.has(k) || NOT_STRINGS.has(k) || Object.hasOwn(o, k);
  let seq: { key: string; indent: number; items: Record<string, unknown>[] } | null = null;
  let item: Record<string, unknown> | null = null;
  const close = (): boolean => {
    // `key:` with no entries is null in YAML: leave that to the full parser
    if (seq !== null && seq.items.length === 0) return false;
    seq = null;
    item = null;
    return true;
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '' || COMMENT.test(l)) continue;
    const c = l.charCodeAt(0);
    let m: RegExpExecArray | null;
    if (c !== 32 && c !== 45 /* - */) {
      if (!close()) return null;
      if ((m = TOP_KV.exec(l)) !== null) {
        const k = m[1]!;
        const v = fastScalar(m[2]!, true);
        if (v === NO_VALUE || taken(value, k)) return null;
        value[k] = v;
        keyLines.set(k, i + 1);
      } else if ((m = TOP_K.exec(l)) !== null) {
        const k = m[1]!;
        if (taken(value, k)) return null;
        const items: Record<string, unknown>[] = [];
        value[k] = items;
        keyLines.set(k, i + 1);
        itemLines.set(k, []);
        seq = { key: k, indent: -1, items };
      } else {
        return null;
      }
    } else if ((m = ITEM.exec(l)) !== null) {
      const s = seq as { key: string; indent: number; items: Record<string, unknown>[] } | null;
      const indent = m[1]!.length;
      if (s === null || (s.indent !== -1 && s.indent !== indent)) return null;
      s.indent = indent;
      const v = fastScalar(m[3]!, false);
      if (v === NO_VALUE || RESERVED_KEYS.has(m[2]!) || NOT_STRINGS.has(m[2]!)) return null;
      const it: Record<string, unknown> = { [m[2]!]: v };
      item = it;
      s.items.push(it);
      itemLines.get(s.key)!.push(i + 1);
    } else if ((m = CONT.exec(l)) !== null) {
      const s = seq as { indent: number } | null;
      const it = item as Record<string, unknown> | null;
      if (s === null || it === null || m[1]!.length !== s.indent + 2) return null;
      const k = m[2]!;
      const v = fastScalar(m[3]!, false);
      if (v === NO_VALUE || taken(it, k)) return null;
      it[k] = v;
    } else {
      return null;
    }
  }
  if (!close() || keyLines.size === 0) return null;
  return { value, keyLines, itemLines };
}

/** Parses YAML text; problems are appended to `issues`. Returns the plain value (or undefined on a syntax error). */
export function parseYaml(file: string, text: string, issues: RulesIssue[]): { value: unknown; source: YamlSource } | undefined {
  if (text.length > MAX_RULES_FILE_BYTES) {
    issues.push({ file, line: 1, path: '', message: `file is larger than ${MAX_RULES_FILE_BYTES} bytes; split it` });
    return undefined;
  }
  const fast = parseFastYaml(text);
  if (fast !== null) {
    let full: YamlSource | undefined;
    // the full parse for a line the scan did not record (a schema error deep in an entry)
    const fullSource = (): YamlSource => (full ??= parseYamlFully(file, text, [])?.source ?? { file, doc: null, lineOf: () => 1 });
    const source: YamlSource = {
      file,
      get doc() { return fullSource().doc; },
      lineOf(path, key) {
        if (path.length === 0 && key !== undefined) {
          const l = fast.keyLines.get(key);
          if (l !== undefined) return l;
        } else if (path.length === 2 && key === undefined && typeof path[0] === 'string' && typeof path[1] === 'number') {
          const l = fast.itemLines.get(path[0])?.[path[1]];
          if (l !== undefined) return l;
        }
        return fullSource().lineOf(path, key);
      },
    };
    return { value: fast.value, source };
  }
  return parseYamlFully(file, text, issues);
}

/** The YAML parser path alone (no fast path): the reference the fast path is tested against. */
export function parseYamlFully(file: string, text: string, issues: RulesIssue[]): { value: unknown; source: YamlSource } | undefined {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false, strict: true });
  const locate = lineLocator(doc, lc);
  const source: YamlSource = { file, doc, lineOf: locate };
  const before = issues.length;
  for (const e of [...doc.errors, ...doc.warnings]) {
    const line = e.linePos?.[0]?.line ?? (e.pos ? lc.linePos(e.pos[0]).line : 1);
    issues.push({ file, line, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (issues.length > before) return undefined;
  visit(doc, {
    Pair(_k, pair) {
      if (isPair(pair) && isScalar(pair.key) && RESERVED_KEYS.has(String(pair.key.value))) {
        const r = (pair.key as Node).range;
        issues.push({ file, line: r ? lc.linePos(r[0]).line : 1, path: '', message: `the key "${String(pair.key.value)}" is not allowed (reserved JavaScript property name)` });
      }
    },
    Alias(_k, alias) {
      const r = alias.range;
      issues.push({ file, line: r ? lc.linePos(r[0]).line : 1, path: '', message: 'YAML aliases (*name) are not supported in rules files; repeat the value' });
    },
  });
  if (issues.length > before) return undefined;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (err) {
    issues.push({ file, line: 1, path: '', message: `YAML: ${(err as Error).message}` });
    return undefined;
  }
  return { value, source };
}

/** Validates a parsed value with a zod schema; each zod issue becomes a file:line issue. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, source: YamlSource, issues: RulesIssue[]): z.output<S> | undefined {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const unknownAt = new Set(r.error.issues.filter((i) => i.code === 'unrecognized_keys').map((i) => formatPath(i.path)));
  for (const i of r.error.issues) {
    // an unknown key usually also trips "needs one of …" on its object: report the typo alone
    if (i.code === 'custom' && i.path.length > 0 && unknownAt.has(formatPath(i.path)) ) continue;
    const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) {
        issues.push({
          file: source.file,
          line: source.lineOf(path, k),
          path: formatPath([...path, k]),
          message: `unknown key "${k}"${suggest(k)}`,
        });
      }
      continue;
    }
    issues.push({ file: source.file, line: source.lineOf(path), path: formatPath(path), message: describe(i) });
  }
  return undefined;
}

const KNOWN = ['functions', 'mode', 'description', 'allow', 'deny', 'id', 'aws', 'resource', 'host', 'cidr', 'port', 'severity', 'expires',
  'rules', 'name', 'priority', 'conditions', 'response', 'fact', 'operator', 'value', 'path', 'all', 'any', 'not', 'cases', 'event', 'expect', 'verdict', 'rule', 'now'];

function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

function suggest(k: string): string {
  if (k.length > 40) return '';
  const best = KNOWN.map((c) => ({ c, d: distance(k.toLowerCase(), c.toLowerCase()) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 ? `; did you mean "${best.c}"?` : '';
}

function describe(i: z.core.$ZodIssue): string {
  if (i.code === 'invalid_type' && (i as { input?: unknown }).input === undefined) return `is required (${i.expected})`;
  if (i.code === 'invalid_union') return 'does not match any accepted form; see engine/policy/README.md';
  return i.message;
}
