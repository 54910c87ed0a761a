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

/** Parses YAML text; problems are appended to `issues`. Returns the plain value (or undefined on a syntax error). */
export function parseYaml(file: string, text: string, issues: RulesIssue[]): { value: unknown; source: YamlSource } | undefined {
  if (text.length > MAX_RULES_FILE_BYTES) {
    issues.push({ file, line: 1, path: '', message: `file is larger than ${MAX_RULES_FILE_BYTES} bytes; split it` });
    return undefined;
  }
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
