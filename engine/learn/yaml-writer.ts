import type { LearnedEntry } from './propose';
import type { Seen } from './observations';

/**
 * Renders a learned rules file. Hand-written rather than through a YAML library so that every
 * entry carries its evidence (count, first/last seen, what a generalization covers) as a comment
 * right above it, where a reviewer reads it in the pull request. Every scalar is written as a
 * double-quoted (JSON) string, so no observed value can change the YAML structure.
 */
export interface RulesFileHeader {
  /** lines of the leading comment */
  comment: string[];
  functions: string[];
  /** null: no `mode` key (an additions file defers to the existing file's mode). */
  mode: 'monitor' | 'block' | 'learn' | null;
}

const q = (s: string): string => JSON.stringify(s);
const iso = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : 'unknown');
const MAX_COVERS = 12;

export function seenComment(s: Seen): string {
  return `${s.count.toLocaleString('en-US')} seen, first ${iso(s.first)}, last ${iso(s.last)}`;
}

function commentLines(text: string, indent: string): string[] {
  return text.split('\n').map((l) => `${indent}# ${l.replace(/[\r\n]/g, ' ')}`.trimEnd());
}

/** The entry as it appears in the rules file (what the rules schema validates). */
export function entryObject(e: LearnedEntry): Record<string, string | number> {
  switch (e.kind) {
    case 'aws': return e.resource === null ? { aws: e.aws } : { aws: e.aws, resource: e.resource };
    case 'host': return { host: e.host };
    case 'cidr': return e.port === null ? { cidr: e.cidr } : { cidr: e.cidr, port: e.port };
  }
}

export function renderEntry(e: LearnedEntry, indent = '  '): string[] {
  const lines = commentLines(seenComment(e.seen), indent);
  if (e.covers?.length) {
    const shown = e.covers.slice(0, MAX_COVERS).map((c) => JSON.stringify(c)).join(', ');
    const more = e.covers.length > MAX_COVERS ? ` and ${e.covers.length - MAX_COVERS} more` : '';
    lines.push(...commentLines(`generalized: covers ${e.covers.length} observed values: ${shown}${more}`, indent));
  }
  if (e.note) lines.push(...commentLines(`note: ${e.note}`, indent));
  let first = true;
  for (const [k, v] of Object.entries(entryObject(e))) {
    lines.push(`${indent}${first ? '-' : ' '} ${k}: ${typeof v === 'number' ? v : q(v)}`);
    first = false;
  }
  return lines;
}

export function renderRulesFile(header: RulesFileHeader, entries: LearnedEntry[]): string {
  const out: string[] = header.comment.flatMap((c) => commentLines(c, ''));
  out.push(`functions: [${header.functions.map(q).join(', ')}]`);
  if (header.mode) out.push(`mode: ${header.mode}`);
  if (entries.length === 0) {
    out.push('allow: []');
  } else {
    out.push('allow:');
    for (const e of entries) out.push(...renderEntry(e));
  }
  return out.join('\n') + '\n';
}
