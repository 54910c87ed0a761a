import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { formatPath } from '../../engine/policy/yaml-source';
import { ConfigFileError, type ConfigIssue } from './errors';

/**
 * Parse a YAML config file and validate it with a zod schema. Every problem comes back as one
 * ConfigFileError issue with the file, the line of the offending node and its path.
 */
export function parseYamlConfig<S extends z.ZodType>(text: string, file: string, schema: S): z.output<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigFileError(doc.errors.map((e) => ({
      file,
      line: e.linePos?.[0]?.line ?? null,
      path: '',
      message: `YAML syntax: ${e.message.split('\n')[0]}`,
    })));
  }
  const value: unknown = doc.toJS({ maxAliasCount: 50 });
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => {
    let node: unknown = doc.getIn(issue.path as PropertyKey[] as (string | number)[], true);
    // for an unknown or missing key, point at the object that holds it
    for (let depth = issue.path.length - 1; !isNode(node) && depth >= 0; depth--) {
      node = depth === 0 ? doc.contents : doc.getIn(issue.path.slice(0, depth) as (string | number)[], true);
    }
    const offset = isNode(node) && node.range ? node.range[0] : null;
    let path = formatPath(issue.path);
    const keys = (issue as { keys?: string[] }).keys;
    if (issue.code === 'unrecognized_keys' && keys) path = keys.map((k) => (path ? `${path}.${k}` : k)).join(', ');
    return { file, line: offset === null ? null : lineCounter.linePos(offset).line, path, message: issue.message };
  });
  throw new ConfigFileError(issues);
}

/** A duration: seconds as a number, or `90s`, `15m`, `2h`, `7d`. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d{1,7})(s|m|h|d)$/.exec(value.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return n * ({ s: 1, m: 60, h: 3600, d: 86400 } as const)[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** Lambda function names (letters, digits, `-`, `_`) with `*` as the only wildcard. */
export const FUNCTION_PATTERN_RE = /^[A-Za-z0-9_*-]{1,140}$/;

/** `*` matches any run of characters; everything else is literal (same as Step Functions' StringMatches). */
export function functionGlobMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const parts = pattern.split('*');
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (!name.startsWith(first) || name.length < first.length + last.length || !name.endsWith(last)) return false;
  let pos = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? '';
    const at = name.indexOf(part, pos);
    if (at < 0 || at + part.length > end) return false;
    pos = at + part.length;
  }
  return true;
}
