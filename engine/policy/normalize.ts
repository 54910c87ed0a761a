import type { Mode } from '../events/access-event';
import type { Severity } from '../events/decision-event';
import type { ResponsesConfig } from './schema';
import type { AllowEntry, DenyEntry, Entry } from './schema';
import { expiryEpoch, parseAwsPattern, parseHostPattern } from './patterns';
import { formatCidr, parseCidr } from './ip';
import { PolicyError } from './errors';

/**
 * The normalized, order-independent form of a rules repo: what the compiler indexes, what a
 * bundle stores, and what `policyVersion` hashes. Plain JSON.
 */
export interface NormalizedEntry {
  id: string;
  kind: 'aws' | 'host' | 'cidr';
  /** aws: lower-case service prefix or `*` */
  service?: string;
  /** aws: lower-case action glob */
  action?: string;
  /** aws: ARN glob (case-sensitive); absent = any resource */
  resource?: string;
  /** host: lower-case name without trailing dot; `wildcard` = strictly under that name */
  host?: string;
  wildcard?: boolean;
  /** cidr: canonical `address/prefix` (IPv4-mapped IPv6 stored as IPv4) */
  cidr?: string;
  port?: number;
  /** deny only */
  severity?: Severity;
  /** epoch ms from which the entry no longer applies */
  expiresAt?: number;
}

export interface NormalizedGroup {
  functions: string[];
  mode: Mode | null;
  /** the group has an allow list (even an empty one): unmatched accesses are `unlisted` */
  allowList: boolean;
  allow: NormalizedEntry[];
  deny: NormalizedEntry[];
}

export interface NormalizedException { functionName: string; entry: NormalizedEntry }

export interface NormalizedPolicy {
  groups: NormalizedGroup[];
  global: { allow: NormalizedEntry[]; deny: NormalizedEntry[] };
  exceptions: NormalizedException[];
  responses: ResponsesConfig | null;
}

/** Stable id for an entry without `id`: derived from what it matches, e.g. `host:*.pastebin.com`. */
export function ruleIdFor(entry: Entry): string {
  if (entry.id) return entry.id;
  return normalizeEntry(entry, 'allow').id;
}

function derivedId(n: NormalizedEntry): string {
  const port = n.port !== undefined ? `:${n.port}` : '';
  if (n.kind === 'aws') return `aws:${n.service}:${n.action}${n.resource ? `@${n.resource}` : ''}`;
  if (n.kind === 'host') return `host:${n.wildcard ? '*.' : ''}${n.host}${port}`;
  return `cidr:${n.cidr}${port}`;
}

// parsed `service:Action` patterns: a repo repeats a few of them (`dynamodb:*`, `s3:Get*`) many times
const AWS_MEMO = new Map<string, ReturnType<typeof parseAwsPattern>>();
function awsPattern(raw: string): ReturnType<typeof parseAwsPattern> {
  let r = AWS_MEMO.get(raw);
  if (r === undefined) {
    r = parseAwsPattern(raw);
    if (AWS_MEMO.size >= 4096) AWS_MEMO.clear();
    AWS_MEMO.set(raw, r);
  }
  return r;
}

/** Normalizes one validated entry. Throws PolicyError on an entry the schema would have rejected. */
export function normalizeEntry(e: Entry, effect: 'allow' | 'deny'): NormalizedEntry {
  let n: NormalizedEntry;
  if (e.aws !== undefined) {
    const a = awsPattern(e.aws);
    if ('error' in a) throw new PolicyError(`invalid aws pattern "${e.aws}": ${a.error}`);
    n = { id: '', kind: 'aws', service: a.service, action: a.action };
    if (e.resource !== undefined && e.resource !== '*') n.resource = e.resource;
  } else if (e.host !== undefined) {
    const h = parseHostPattern(e.host);
    if ('error' in h) throw new PolicyError(`invalid host "${e.host}": ${h.error}`);
    const port = h.host.port ?? e.port;
    if (h.host.ip) {
      const c = parseCidr(h.host.name);
      if ('error' in c) throw new PolicyError(`invalid host "${e.host}": ${c.error}`);
      n = { id: '', kind: 'cidr', cidr: formatCidr(c.cidr) };
    } else {
      n = { id: '', kind: 'host', host: h.host.name };
      if (h.host.wildcard) n.wildcard = true;
    }
    if (port !== undefined) n.port = port;
  } else if (e.cidr !== undefined) {
    const c = parseCidr(e.cidr.trim());
    if ('error' in c) throw new PolicyError(`invalid cidr "${e.cidr}": ${c.error}`);
    n = { id: '', kind: 'cidr', cidr: formatCidr(c.cidr) };
    if (e.port !== undefined) n.port = e.port;
  } else {
    throw new PolicyError('an entry needs one of aws, host or cidr');
  }
  if (effect === 'deny') n.severity = (e as DenyEntry).severity ?? 'medium';
  if (e.expires !== undefined) n.expiresAt = expiryEpoch(e.expires);
  n.id = e.id ?? derivedId(n);
  return n;
}

// Canonical JSON: fixed key order, sorted lists — so file and entry order never change the hash.
const ENTRY_KEYS: (keyof NormalizedEntry)[] = ['id', 'kind', 'service', 'action', 'resource', 'host', 'wildcard', 'cidr', 'port', 'severity', 'expiresAt'];

export function canonicalEntry(e: NormalizedEntry): NormalizedEntry {
  const out: Record<string, unknown> = {};
  for (const k of ENTRY_KEYS) if (e[k] !== undefined) out[k] = e[k];
  return out as unknown as NormalizedEntry;
}

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byJson = <T>(xs: T[]): T[] => xs.map((x) => [JSON.stringify(x), x] as const).sort((a, b) => cmpStr(a[0], b[0])).map((p) => p[1]);
/** Entries sort by id; the (rare) equal ids by their full JSON, so the order is total. */
const byId = (xs: NormalizedEntry[]): NormalizedEntry[] =>
  xs.sort((a, b) => {
    const x = a.id, y = b.id;
    return x < y ? -1 : x > y ? 1 : cmpStr(JSON.stringify(a), JSON.stringify(b));
  });
const dedupSorted = (xs: string[]): string[] => [...new Set(xs)].sort();

/**
 * Sorts everything into the canonical order (entries from normalizeEntry already have canonical key order).
 * `inPlace`: the caller owns every group and list of `p` (just built them), so they are sorted as they
 * are instead of copied — fewer surviving copies for the young-generation GC at compile.
 */
export function canonicalize(p: NormalizedPolicy, opts: { inPlace?: boolean } = {}): NormalizedPolicy {
  const own = opts.inPlace === true;
  const groups = p.groups.map((g) => ({ functions: dedupSorted(g.functions), mode: g.mode, allowList: g.allowList, allow: byId(own ? g.allow : [...g.allow]), deny: byId(own ? g.deny : [...g.deny]) }));
  // groups sort by a cheap key (names, mode); identical keys fall back to the full JSON
  const key = (g: NormalizedGroup) => `${g.functions.join('\u0000')}\u0001${g.mode ?? ''}\u0001${g.allowList}`;
  groups.sort((a, b) => cmpStr(key(a), key(b)) || cmpStr(JSON.stringify(a), JSON.stringify(b)));
  return {
    groups,
    global: { allow: byId(own ? p.global.allow : [...p.global.allow]), deny: byId(own ? p.global.deny : [...p.global.deny]) },
    exceptions: byJson(p.exceptions.map((x) => ({ functionName: x.functionName, entry: canonicalEntry(x.entry) }))),
    responses: p.responses,
  };
}

export type { AllowEntry, DenyEntry };
