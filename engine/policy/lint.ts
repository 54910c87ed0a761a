import { RulesLoadError } from './errors';
import { loadRulesDir, type Located, type RulesRepo } from './loader';
import { normalizeEntry, type NormalizedEntry } from './normalize';
import { globMatch, hasWildcard } from './glob';
import { maskIp, ipEquals, parseCidr } from './ip';
import { parseYaml, validate } from './yaml-source';
import type { Entry, FunctionRules, GlobalRules } from './schema';
import type { RulesIssue } from './errors';
import type { z } from 'zod';

/**
 * `warden rules lint`: every problem of a rules repo, as `file:line: level: message`.
 * Errors (exit 1): schema errors and unknown keys, duplicate ids naming different entries,
 * allow entries that a deny makes dead (shadowed), duplicate response-rule names.
 * Warnings: exact duplicates, expired entries, conflicting modes, files outside the format.
 * Each check is one pure function over the loaded repo.
 */
export type LintLevel = 'error' | 'warning';
export interface LintFinding { file: string; line: number; level: LintLevel; code: string; message: string }

interface Item {
  file: string;
  line: number;
  list: 'allow' | 'deny';
  index: number;
  scope: 'global' | string[];
  raw: Entry;
  n: NormalizedEntry;
}

function itemsOf(repo: RulesRepo): Item[] {
  const out: Item[] = [];
  const add = (loc: Located<FunctionRules | GlobalRules>, scope: Item['scope']) => {
    for (const list of ['allow', 'deny'] as const) {
      (loc.data[list] ?? []).forEach((raw, index) => {
        out.push({ file: loc.file, line: loc.lines[list][index] ?? 1, list, index, scope, raw, n: normalizeEntry(raw, list) });
      });
    }
  };
  if (repo.global) add(repo.global, 'global');
  for (const f of repo.functions) add(f, f.data.functions);
  return out;
}

const content = (n: NormalizedEntry): string => JSON.stringify({ ...n, id: undefined, severity: undefined, expiresAt: undefined });
const where = (i: Item) => `${i.file}:${i.line}`;

/** The same id on entries that match different things: a decision's `rule` would be ambiguous. */
export function checkDuplicateIds(items: Item[]): LintFinding[] {
  const byId = new Map<string, Item[]>();
  for (const i of items) if (i.raw.id) (byId.get(i.raw.id) ?? byId.set(i.raw.id, []).get(i.raw.id)!).push(i);
  const out: LintFinding[] = [];
  for (const [id, list] of byId) {
    const first = list[0]!;
    for (const other of list.slice(1)) {
      if (content(other.n) === content(first.n) && other.list === first.list) continue; // the same rule repeated for another function
      out.push({ file: other.file, line: other.line, level: 'error', code: 'duplicate-id', message: `id "${id}" is already used by a different entry at ${where(first)}; ids name one rule in decisions — rename one` });
    }
  }
  return out;
}

/** The same entry twice in one list (or a function entry that global.yaml already has). */
export function checkExactDuplicates(items: Item[]): LintFinding[] {
  const seen = new Map<string, Item>();
  const out: LintFinding[] = [];
  for (const i of items) {
    const scopeKey = i.scope === 'global' ? 'global' : i.file;
    const k = `${scopeKey}|${i.list}|${content(i.n)}`;
    const g = `global|${i.list}|${content(i.n)}`;
    const prev = seen.get(k) ?? (i.scope !== 'global' ? seen.get(g) : undefined);
    if (prev) out.push({ file: i.file, line: i.line, level: 'warning', code: 'duplicate', message: `${i.list} entry duplicates ${where(prev)}; remove one` });
    else seen.set(k, i);
  }
  return out;
}

export function checkExpired(items: Item[], now: number): LintFinding[] {
  return items
    .filter((i) => i.n.expiresAt !== undefined && now >= i.n.expiresAt)
    .map((i) => ({ file: i.file, line: i.line, level: 'warning' as const, code: 'expired', message: `${i.list} entry "${i.n.id}" expired on ${i.raw.expires} and no longer applies; remove it or extend "expires"` }));
}

function hostCovers(d: NormalizedEntry, a: NormalizedEntry): boolean {
  if (d.port !== undefined && d.port !== a.port) return false;
  const dh = d.host!, ah = a.host!;
  if (!d.wildcard) return !a.wildcard && dh === ah;
  return ah.endsWith(`.${dh}`) || (a.wildcard === true && ah === dh);
}

function cidrCovers(d: NormalizedEntry, a: NormalizedEntry): boolean {
  if (d.port !== undefined && d.port !== a.port) return false;
  const dc = parseCidr(d.cidr!), ac = parseCidr(a.cidr!);
  if ('error' in dc || 'error' in ac) return false;
  if (dc.cidr.ip.v !== ac.cidr.ip.v || dc.cidr.prefix > ac.cidr.prefix) return false;
  return ipEquals(maskIp(ac.cidr.ip, dc.cidr.prefix), dc.cidr.ip);
}

function patternCovers(d: string, a: string): boolean {
  if (d === a || d === '*') return true;
  if (!hasWildcard(a)) return globMatch(d, a);
  // a glob covered by a glob: safe only for a trailing-* prefix pattern
  return /^[^*?]*\*$/.test(d) && a.startsWith(d.slice(0, -1));
}

function awsCovers(d: NormalizedEntry, a: NormalizedEntry): boolean {
  if (d.service !== '*' && d.service !== a.service) return false;
  if (!patternCovers(d.action!, a.action!)) return false;
  if (d.resource === undefined) return true;
  return a.resource !== undefined && patternCovers(d.resource, a.resource);
}

/** Does deny entry `d` match everything allow entry `a` matches? */
export function denyCovers(d: NormalizedEntry, a: NormalizedEntry): boolean {
  if (d.kind !== a.kind) return false;
  if (d.kind === 'host') return hostCovers(d, a);
  if (d.kind === 'cidr') return cidrCovers(d, a);
  return awsCovers(d, a);
}

/** Does deny item `d` apply to every function allow item `a` applies to? */
function scopeCovers(d: Item, a: Item): boolean {
  if (d.scope === 'global' || d.file === a.file) return true;
  if (a.scope === 'global') return false;
  const dScope = d.scope;
  return a.scope.every((f) => (hasWildcard(f) ? dScope.includes(f) || dScope.includes('*') : dScope.some((g) => globMatch(g, f))));
}

/** An allow entry that a (non-expiring) deny covering all its functions fully matches can never apply. */
export function checkShadowed(items: Item[], now: number): LintFinding[] {
  const out: LintFinding[] = [];
  const denies = items.filter((i) => i.list === 'deny' && i.n.expiresAt === undefined);
  for (const a of items) {
    if (a.list !== 'allow' || (a.n.expiresAt !== undefined && now >= a.n.expiresAt)) continue;
    const d = denies.find((x) => scopeCovers(x, a) && denyCovers(x.n, a.n));
    if (d) out.push({ file: a.file, line: a.line, level: 'error', code: 'shadowed', message: `allow entry "${a.n.id}" can never apply: deny "${d.n.id}" at ${where(d)} matches everything it allows (deny always wins); remove one of them` });
  }
  return out;
}

/** Two files naming the same function with different modes (the exact name wins, then the strictest). */
export function checkModeConflicts(repo: RulesRepo): LintFinding[] {
  const byName = new Map<string, { file: string; line: number; mode: string }>();
  const out: LintFinding[] = [];
  for (const f of repo.functions) {
    if (!f.data.mode) continue;
    for (const name of f.data.functions) {
      const prev = byName.get(name);
      if (prev && prev.mode !== f.data.mode) {
        out.push({ file: f.file, line: f.lines.keys.mode ?? 1, level: 'warning', code: 'mode-conflict', message: `"${name}" gets mode ${f.data.mode} here but ${prev.mode} in ${prev.file}; the strictest applies — keep one` });
      } else if (!prev) byName.set(name, { file: f.file, line: f.lines.keys.mode ?? 1, mode: f.data.mode });
    }
  }
  return out;
}

export function checkResponseRules(repo: RulesRepo): LintFinding[] {
  const r = repo.responses;
  if (!r) return [];
  const seen = new Set<string>();
  const out: LintFinding[] = [];
  r.data.rules.forEach((rule, i) => {
    if (seen.has(rule.name)) out.push({ file: r.file, line: r.lines.rules[i] ?? 1, level: 'error', code: 'duplicate-id', message: `response rule name "${rule.name}" is used twice; names identify rules` });
    seen.add(rule.name);
  });
  return out;
}

export function checkIgnoredFiles(repo: RulesRepo): LintFinding[] {
  return repo.ignored.map((file) => ({ file, line: 1, level: 'warning' as const, code: 'unknown-file', message: 'not part of the rules format (function files go in functions/, golden tests in tests/); it is ignored' }));
}

/** escalation.yaml / approvers.yaml: validated with their owners' schemas when those modules exist. */
async function checkExtraFiles(repo: RulesRepo): Promise<LintFinding[]> {
  const schemas: Record<string, () => Promise<z.ZodType | undefined>> = {
    escalation: async () => (await import('../../workflows/escalate/escalation-config')).EscalationConfigSchema,
    approvers: async () => (await import('../../workflows/slack/approvers')).ApproversConfigSchema,
  };
  const out: LintFinding[] = [];
  for (const f of repo.extra) {
    const base = f.path.replace(/\.ya?ml$/, '');
    const get = schemas[base];
    if (!get) {
      out.push({ file: f.file, line: 1, level: 'warning', code: 'unknown-file', message: 'not a known rules file (global, responses, escalation, approvers); it is ignored' });
      continue;
    }
    let schema: z.ZodType | undefined;
    try {
      schema = await get();
    } catch {
      continue; // that part of Warden is not installed: nothing to validate against
    }
    if (!schema) continue;
    const issues: RulesIssue[] = [];
    const parsed = parseYaml(f.file, f.text, issues);
    if (parsed) validate(schema, parsed.value ?? {}, parsed.source, issues);
    out.push(...issues.map((i) => toFinding(i)));
  }
  return out;
}

function toFinding(i: RulesIssue): LintFinding {
  return { file: i.file, line: i.line, level: 'error', code: 'schema', message: i.path ? `${i.path}: ${i.message}` : i.message };
}

export function lintRepo(repo: RulesRepo, now: number): LintFinding[] {
  const items = itemsOf(repo);
  return [
    ...checkDuplicateIds(items),
    ...checkExactDuplicates(items),
    ...checkShadowed(items, now),
    ...checkExpired(items, now),
    ...checkModeConflicts(repo),
    ...checkResponseRules(repo),
    ...checkIgnoredFiles(repo),
  ];
}

export interface LintResult { findings: LintFinding[]; errors: number; warnings: number; repo: RulesRepo | null }

/** Loads and lints a rules dir. Load errors are findings too (nothing throws for a bad repo). */
export async function lintRulesDir(dir: string, now: number): Promise<LintResult> {
  let findings: LintFinding[];
  let repo: RulesRepo | null = null;
  try {
    repo = await loadRulesDir(dir);
    findings = lintRepo(repo, now);
  } catch (err) {
    if (!(err instanceof RulesLoadError)) throw err;
    findings = err.issues.map(toFinding);
  }
  if (repo) findings.push(...(await checkExtraFiles(repo)));
  findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  return { findings, repo, errors: findings.filter((f) => f.level === 'error').length, warnings: findings.filter((f) => f.level === 'warning').length };
}

export function formatFinding(f: LintFinding): string {
  return `${f.file}:${f.line}: ${f.level}: ${f.message}`;
}
