import { createHash } from 'node:crypto';
import type { Access, FunctionIdentity, Mode } from '../events/access-event';
import type { Severity } from '../events/decision-event';
import { globMatch, globMatchFrom, hasWildcard, literalPrefix } from './glob';
import { RadixTree } from './radix';
import { hostAsIp, parseCidr, parseIPv4, parseIp, type Ip } from './ip';
import { PolicyError } from './errors';
import type { RulesRepo } from './loader';
import {
  canonicalize, normalizeEntry,
  type NormalizedEntry, type NormalizedGroup, type NormalizedPolicy,
} from './normalize';
import type { AllowEntry, ResponsesConfig } from './schema';
import type { CompiledPolicy, ListVerdict } from './types';

/** A time-bound exception granted by an approval: one allow entry for one function until `expiresAt`. */
export interface AllowException {
  id: string;
  functionName: string;
  entry: AllowEntry;
  /** epoch ms */
  expiresAt: number;
}

export const INTERNAL_ERROR_RULE = 'warden:internal-error';
// Verdicts are shared, frozen objects: decide allocates nothing for its answer.
const UNLISTED: ListVerdict = Object.freeze({ verdict: 'unlisted', rule: null, severity: 'medium' });
const ALLOW_BY_DEFAULT: ListVerdict = Object.freeze({ verdict: 'allow', rule: null, severity: 'info' });
const INTERNAL_ERROR: ListVerdict = Object.freeze({ verdict: 'deny', rule: INTERNAL_ERROR_RULE, severity: 'high' });
const SEV_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
const MODE_RANK: Record<Mode, number> = { learn: 0, monitor: 1, block: 2 };
const MAX_CACHED_FUNCTIONS = 10_000;

/**
 * An entry with what matching needs precomputed. One shape for every kind of entry, so the hot
 * loops read one object shape. Built once per entry and shared by every index that holds it.
 */
interface IndexedEntry {
  // the fields a candidate is checked with come first (fewer cache lines touched per decision)
  deny: boolean;
  /** false: never expires (the expiry, a double, lives in `extra`) */
  expires: boolean;
  /** -1: any port */
  port: number;
  /** aws: exact lower-case action, or null when `action` is a glob */
  actionExact: string | null;
  actionGlob: string | null;
  /** aws: resource glob to check (null when the bucket lookup already proved it, or no resource) */
  resourceGlob: string | null;
  /** length of resourceGlob's literal prefix: the prefix tree proved it, matching starts after it */
  resourceFrom: number;
  /** host wildcard: the name strictly under which it matches ('' for other entries) */
  suffix: string;
  /** cidr: prefix length (-1 when not a cidr); v4: the network's last 8 bits (the table key holds the rest) */
  prefix: number;
  low8: number;
  /** cidr: its key in the v4 or v6 table (a small integer) */
  ipKey: number;
  /** deny: severity rank (higher wins; SEVERITY_OF_RANK names it); allow: 0 */
  rank: number;
  id: string;
  /** the verdict this entry decides, built on its first match (frozen: shared by every decision it makes) */
  verdict: ListVerdict | null;
  /** what few entries need, kept out of line: numbers that are not small integers are boxed in V8 */
  extra: EntryExtra | null;
}
interface EntryExtra {
  /** epoch ms from which the entry no longer applies; Infinity: never */
  expiresAt: number;
  /** v6 cidr: the network's four words */
  net6: Uint32Array | null;
}
const SEVERITY_OF_RANK: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

/** `deny`: the entry is on a deny list (the list, not the entry, decides its effect) */
function indexEntry(e: NormalizedEntry, deny: boolean): IndexedEntry {
  const severity = e.severity ?? 'medium';
  const ie: IndexedEntry = {
    deny, expires: e.expiresAt !== undefined, port: e.port ?? -1, actionExact: null, actionGlob: null, resourceGlob: null, resourceFrom: 0,
    suffix: '', prefix: -1, low8: 0, ipKey: 0, rank: deny ? SEV_RANK[severity] : 0, id: e.id, verdict: null,
    extra: e.expiresAt !== undefined ? { expiresAt: e.expiresAt, net6: null } : null,
  };
  if (e.kind === 'aws') {
    const action = e.action ?? '*';
    if (hasWildcard(action)) { if (action !== '*') ie.actionGlob = action; } else ie.actionExact = action;
    const r = e.resource;
    if (r !== undefined && hasWildcard(r)) {
      const prefix = literalPrefix(r);
      // `prefix*` matches whatever follows the prefix the tree lookup proved: nothing left to check
      if (r.length !== prefix.length + 1 || r.charCodeAt(prefix.length) !== 42 /* * */) {
        ie.resourceGlob = r;
        ie.resourceFrom = prefix.length;
      }
    }
  } else if (e.kind === 'host') {
    if (e.wildcard) ie.suffix = e.host!;
  } else if (!canonicalV4(e.cidr!, ie)) {
    const c = parseCidr(e.cidr!);
    if ('error' in c) throw new PolicyError(`bad cidr in compiled policy: ${e.cidr}`);
    const { ip, prefix } = c.cidr;
    ie.prefix = prefix;
    if (ip.v === 4) {
      ie.low8 = ip.n & 0xff;
      ie.ipKey = v4Key(ip.n, prefix);
    } else {
      const w = Uint32Array.from(ip.w);
      (ie.extra ??= { expiresAt: Infinity, net6: null }).net6 = w;
      ie.ipKey = v6Key(w[0]!, w[1]!, w[2]!, w[3]!);
    }
  }
  return ie;
}

/**
 * The usual v4 cidr of a compiled policy (`10.1.2.0/24`: strict address, prefix 0–32 without a
 * leading zero, no host bits) straight into the entry, without parseCidr's objects; false for
 * anything else (parseCidr then decides, with its errors). Exported for tests.
 */
export function canonicalV4(s: string, ie: Pick<IndexedEntry, 'prefix' | 'low8' | 'ipKey'>): boolean {
  const slash = s.indexOf('/');
  if (slash < 7 || s.length - slash > 3) return false;
  const n = parseIPv4(s.slice(0, slash));
  if (n === null) return false;
  let prefix = 0;
  for (let i = slash + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57 || (i === slash + 1 && c === 48 && s.length - slash > 2)) return false;
    prefix = prefix * 10 + (c - 48);
  }
  if (s.length === slash + 1 || prefix > 32 || mask4(n, prefix) !== n) return false;
  ie.prefix = prefix;
  ie.low8 = n & 0xff;
  ie.ipKey = v4Key(n, prefix);
  return true;
}

function verdictOf(ie: IndexedEntry): ListVerdict {
  return (ie.verdict ??= Object.freeze(ie.deny
    ? { verdict: 'deny' as const, rule: ie.id, severity: SEVERITY_OF_RANK[ie.rank]! }
    : { verdict: 'allow' as const, rule: ie.id, severity: 'info' as const }));
}

/** One service's aws entries; a part with no entries is null (nothing touched for it per decision). */
interface ServiceBucket {
  anyResource: IndexedEntry[] | null;
  exact: Map<string, Slot> | null;
  /** ARN globs grouped by their literal prefix (the text before the first wildcard), in a radix tree */
  prefixes: RadixTree<IndexedEntry> | null;
}

// Host wildcards: `*.example.com` is filed under a 30-bit hash of `example.com` (a small integer:
// no number is boxed per lookup); a decision hashes each suffix of the event's name that follows a
// dot, right to left in one pass, and compares the text only on a bucket hit.
const HASH_MASK = 0x3fffffff;
/** host names are at most 253 characters: only the suffixes that short can equal an entry's name */
const MAX_SUFFIX = 255;
/** @internal exported for tests */
export function suffixHash(s: string): number {
  let h = 0;
  for (let i = s.length - 1; i >= 0; i--) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h & HASH_MASK;
}

/** the v4 address `n` masked to `len` bits */
const mask4 = (n: number, len: number): number => (len === 0 ? 0 : (n & (0xffffffff << (32 - len))) >>> 0);
/**
 * One v4 table for every prefix length, keyed by the length and the top 24 bits of the network
 * (a small integer: no number is boxed per lookup); ranges longer than /24 compare their last 8
 * bits on a hit.
 */
const v4Key = (masked: number, len: number): number => (len << 24) | (masked >>> 8);
const wordMask = (w: number, bits: number): number => (bits <= 0 ? 0 : bits >= 32 ? w : (w & (0xffffffff << (32 - bits))) >>> 0);
function v6Key(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ w1, 0x85ebca6b);
  h = Math.imul(h ^ w2, 0xc2b2ae35);
  h = Math.imul(h ^ w3, 0x27d4eb2f);
  return (h ^ (h >>> 15)) & HASH_MASK;
}

/**
 * Everything that applies to one set of groups (a function's own groups, its exceptions and the
 * global lists), deny and allow entries together, indexed by kind: one walk per decision.
 */
class MatchIndex {
  readonly aws = new Map<string, ServiceBucket>();
  /** the `*` service bucket (looked up on every aws decision, so kept at hand) */
  awsAny: ServiceBucket | undefined = undefined;
  hasAws = false;
  readonly hostExact = new Map<string, Slot>();
  readonly wild = new Map<number, Slot>();
  /** the shortest and longest wildcard name (only suffixes of those lengths are looked up) */
  wildMin = MAX_SUFFIX + 1;
  wildMax = 0;
  hasWild = false;
  /** v4 prefix lengths present, longest first, and the one table for all of them */
  v4Lens: number[] = [];
  readonly v4 = new Map<number, Slot>();
  v6Lens: number[] = [];
  v6Maps: Map<number, Slot>[] = [];
  /** host and IP entries exist: of any effect (checked for http/tcp), deny ones (also checked for aws calls) */
  anyNet = false;
  denyNet = false;

  constructor(groups: readonly LazyGroup[]) {
    for (const g of groups) {
      const ies = g.entries(), deny = g.src.deny, allow = g.src.allow;
      for (let i = 0; i < deny.length; i++) this.add(ies[i]!, deny[i]!);
      for (let i = 0; i < allow.length; i++) this.add(ies[deny.length + i]!, allow[i]!);
    }
  }

  private add(ie: IndexedEntry, e: NormalizedEntry): void {
    if (e.kind === 'aws') {
      this.hasAws = true;
      const service = e.service ?? '*';
      let b = this.aws.get(service);
      if (!b) {
        b = { anyResource: null, exact: null, prefixes: null };
        this.aws.set(service, b);
        if (service === '*') this.awsAny = b;
      }
      const r = e.resource;
      if (r === undefined) (b.anyResource ??= []).push(ie);
      else if (!hasWildcard(r)) push((b.exact ??= new Map()), r, ie);
      else (b.prefixes ??= new RadixTree()).insert(literalPrefix(r), ie);
      return;
    }
    this.anyNet = true;
    if (ie.deny) this.denyNet = true;
    if (e.kind === 'host') {
      if (!e.wildcard) { push(this.hostExact, e.host!, ie); return; }
      const name = e.host!;
      if (name.length > MAX_SUFFIX) throw new PolicyError(`host name over ${MAX_SUFFIX} characters in compiled policy: ${name.slice(0, 40)}…`);
      this.hasWild = true;
      this.wildMin = Math.min(this.wildMin, name.length);
      this.wildMax = Math.max(this.wildMax, name.length);
      push(this.wild, suffixHash(name), ie);
      return;
    }
    if (ie.extra === null || ie.extra.net6 === null) {
      if (!this.v4Lens.includes(ie.prefix)) this.v4Lens = [...this.v4Lens, ie.prefix].sort((a, b) => b - a);
      push(this.v4, ie.ipKey, ie);
    } else {
      push(this.lenMap(this.v6Lens, this.v6Maps, ie.prefix), ie.ipKey, ie);
    }
  }

  /** the table for one prefix length; lengths are kept longest first */
  private lenMap(lens: number[], maps: Map<number, Slot>[], len: number): Map<number, Slot> {
    let i = lens.indexOf(len);
    if (i < 0) {
      i = 0;
      while (i < lens.length && lens[i]! > len) i++;
      lens.splice(i, 0, len);
      maps.splice(i, 0, new Map());
    }
    return maps[i]!;
  }
}

/**
 * A table slot: the one entry under a key (the usual case), or the entries when there are several —
 * no array per entry to allocate at compile or to step through per decision.
 */
type Slot = IndexedEntry | IndexedEntry[];
function push<K>(m: Map<K, Slot>, k: K, ie: IndexedEntry): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, ie);
  else if (Array.isArray(l)) l.push(ie);
  else m.set(k, [l, ie]);
}

/**
 * What matching needs from one access, and the best deny and allow found so far. One instance,
 * refilled per decision: decide is synchronous, and it reads the access before it touches the
 * view, so nothing else (not even a getter that decides meanwhile) can observe or change it
 * between the fill and the answer. A decision allocates only the lower-cased copies of its
 * names (V8's toLowerCase copies even an already lower-case string; ≈ 50 bytes, short-lived) and,
 * for an IPv6 or inet_aton spelling, one small parse.
 */
class View {
  aws = false;
  service = '';
  action = '';
  resource: string | undefined = undefined;
  host: string | undefined = undefined;
  /** -2: the event has no port (never equal to an entry's port; -1 is "any" on entries) */
  port = -2;
  now = 0;
  v4Count = 0;
  readonly v4 = new Float64Array(2);
  v6Count = 0;
  readonly v6 = new Uint32Array(8);
  /** host suffixes that follow a dot, right to left: the dot's position and the hash of the rest */
  dotCount = 0;
  readonly dots = new Int32Array(MAX_SUFFIX + 1);
  readonly sufHash = new Int32Array(MAX_SUFFIX + 1);
  /** masked v6 words of the current lookup */
  readonly m6 = new Uint32Array(4);
  /** reusable buffer for ARN prefix-tree lookups */
  readonly lists: IndexedEntry[][] = [];
  bestDeny: IndexedEntry | null = null;
  bestAllow: IndexedEntry | null = null;
}
const VIEW = new View();

function addIp(v: View, ip: Ip): void {
  if (ip.v === 4) v.v4[v.v4Count++] = ip.n;
  else { v.v6.set(ip.w, 4 * v.v6Count); v.v6Count++; }
}

/** `s` may be an IP literal (hostAsIp's own precondition): starts with a digit (dotted quad, inet_aton forms) or `[`, or has a colon */
const mayBeIp = (s: string): boolean => {
  const c = s.charCodeAt(0);
  return (c >= 48 && c <= 57) || c === 91 /* [ */ || s.includes(':');
};

function viewOf(access: Access, now: number): View {
  // every property is read once, before the view is touched: nothing the access object does while
  // being read (a getter) can see or change a half-filled view
  const h = access.host, a = access.address, kind = access.kind, service = access.service;
  const action = access.action, resource = access.resource, port = access.port;
  const v = VIEW;
  v.bestDeny = null;
  v.bestAllow = null;
  v.v4Count = 0;
  v.v6Count = 0;
  v.host = undefined;
  if (typeof h === 'string' && h.length > 0) {
    let host = h.toLowerCase();
    if (host.charCodeAt(host.length - 1) === 46 /* . */) host = host.slice(0, -1);
    if (host.length > 0 && mayBeIp(host)) {
      const n = parseIPv4(host);
      const ip = n !== null ? null : hostAsIp(host);
      if (n !== null) v.v4[v.v4Count++] = n;
      else if (ip !== null) addIp(v, ip);
      else v.host = host;
    } else v.host = host;
  }
  if (typeof a === 'string' && a.length > 0) {
    // the loose parse too: an address written as "2852039166" must still hit a v4 range
    const n = parseIPv4(a);
    if (n !== null) v.v4[v.v4Count++] = n;
    else {
      const ip = parseIp(a) ?? hostAsIp(a);
      if (ip !== null) addIp(v, ip);
    }
  }
  v.aws = kind === 'aws';
  v.service = typeof service === 'string' ? service.toLowerCase() : '';
  v.action = typeof action === 'string' ? action.toLowerCase() : '';
  v.resource = typeof resource === 'string' ? resource : undefined;
  v.port = typeof port === 'number' ? port : -2;
  v.now = now;
  return v;
}

/** Positions of the dots in the last `maxLen`+1 characters of the host, and the hash of what follows each. */
function hostDots(v: View, h: string, maxLen: number): void {
  let n = 0, hash = 0;
  const stop = Math.max(0, h.length - maxLen - 1);
  for (let i = h.length - 1; i >= stop; i--) {
    const c = h.charCodeAt(i);
    if (c === 46 /* . */) { v.dots[n] = i; v.sufHash[n] = hash & HASH_MASK; n++; }
    hash = (Math.imul(hash, 31) + c) | 0;
  }
  v.dotCount = n;
}

/** Keeps the winner: deny — highest severity, then smallest id; allow — smallest id. Order-independent. */
function record(v: View, ie: IndexedEntry): void {
  if (ie.deny) {
    const a = v.bestDeny;
    if (a === null || ie.rank > a.rank || (ie.rank === a.rank && ie.id < a.id)) v.bestDeny = ie;
  } else {
    const a = v.bestAllow;
    if (a === null || ie.id < a.id) v.bestAllow = ie;
  }
}

function awsApplies(ie: IndexedEntry, v: View): boolean {
  if ((ie.expires && v.now >= ie.extra!.expiresAt) || (!ie.deny && v.bestDeny !== null)) return false;
  if (ie.actionExact !== null ? ie.actionExact !== v.action : ie.actionGlob !== null && !globMatch(ie.actionGlob, v.action)) return false;
  return ie.resourceGlob === null || (v.resource !== undefined && globMatchFrom(ie.resourceGlob, v.resource, ie.resourceFrom));
}

function considerAws(list: Slot, v: View): void {
  if (!Array.isArray(list)) { if (awsApplies(list, v)) record(v, list); return; }
  for (let i = 0; i < list.length; i++) if (awsApplies(list[i]!, v)) record(v, list[i]!);
}

/** host and IP entries: an aws call is denied by them, never allowed */
function netApplies(ie: IndexedEntry, v: View): boolean {
  if (ie.expires && v.now >= ie.extra!.expiresAt) return false;
  if (!ie.deny && (v.aws || v.bestDeny !== null)) return false;
  return ie.port === -1 || ie.port === v.port;
}

function considerNet(list: Slot, v: View): void {
  if (!Array.isArray(list)) { if (netApplies(list, v)) record(v, list); return; }
  for (let i = 0; i < list.length; i++) if (netApplies(list[i]!, v)) record(v, list[i]!);
}

/** wildcard entries filed under the hash of h[start..]: the name must equal that suffix (native `endsWith`: ~5× a JS loop) */
function suffixApplies(ie: IndexedEntry, v: View, h: string, len: number): boolean {
  return ie.suffix.length === len && h.endsWith(ie.suffix) && netApplies(ie, v);
}
function considerSuffix(list: Slot, v: View, h: string, start: number): void {
  const len = h.length - start;
  if (!Array.isArray(list)) { if (suffixApplies(list, v, h, len)) record(v, list); return; }
  for (let i = 0; i < list.length; i++) if (suffixApplies(list[i]!, v, h, len)) record(v, list[i]!);
}

/** `masked`: the address masked to the list's prefix length (the key proved the length and the top 24 bits) */
function considerV4(list: Slot, v: View, masked: number): void {
  const low8 = masked & 0xff;
  if (!Array.isArray(list)) { if (list.low8 === low8 && netApplies(list, v)) record(v, list); return; }
  for (let i = 0; i < list.length; i++) {
    const ie = list[i]!;
    if (ie.low8 === low8 && netApplies(ie, v)) record(v, ie);
  }
}

function v6Applies(ie: IndexedEntry, v: View): boolean {
  const m = v.m6, w = ie.extra!.net6!;
  return w[0] === m[0] && w[1] === m[1] && w[2] === m[2] && w[3] === m[3] && netApplies(ie, v); // keys are hashes: compare
}
function considerV6(list: Slot, v: View): void {
  if (!Array.isArray(list)) { if (v6Applies(list, v)) record(v, list); return; }
  for (let i = 0; i < list.length; i++) if (v6Applies(list[i]!, v)) record(v, list[i]!);
}

function matchBucket(b: ServiceBucket, v: View): void {
  if (b.anyResource !== null) considerAws(b.anyResource, v);
  const r = v.resource;
  if (r === undefined) return;
  if (b.exact !== null) {
    const l = b.exact.get(r);
    if (l !== undefined) considerAws(l, v);
  }
  if (b.prefixes !== null) {
    const lists = v.lists;
    const n = b.prefixes.collect(r, lists, 0);
    for (let i = 0; i < n; i++) considerAws(lists[i]!, v);
  }
}

function matchIndex(idx: MatchIndex, v: View): void {
  if (v.aws && idx.hasAws) {
    const b = idx.aws.get(v.service);
    if (b !== undefined) matchBucket(b, v);
    if (idx.awsAny !== undefined) matchBucket(idx.awsAny, v);
  }
  if (!(v.aws ? idx.denyNet : idx.anyNet)) return;
  const h = v.host;
  if (h !== undefined) {
    const l = idx.hostExact.size > 0 ? idx.hostExact.get(h) : undefined;
    if (l !== undefined) considerNet(l, v);
    if (idx.hasWild) {
      hostDots(v, h, idx.wildMax);
      for (let k = 0; k < v.dotCount; k++) {
        const start = v.dots[k]! + 1;
        const len = h.length - start;
        if (len < idx.wildMin || len > idx.wildMax) continue;
        const list = idx.wild.get(v.sufHash[k]!);
        if (list !== undefined) considerSuffix(list, v, h, start);
      }
    }
  }
  for (let i = 0; i < v.v4Count; i++) {
    const n = v.v4[i]!;
    const lens = idx.v4Lens;
    for (let k = 0; k < lens.length; k++) {
      const len = lens[k]!;
      const masked = mask4(n, len);
      const list = idx.v4.get(v4Key(masked, len));
      if (list !== undefined) considerV4(list, v, masked);
    }
  }
  for (let i = 0; i < v.v6Count; i++) {
    const o = 4 * i;
    for (let k = 0; k < idx.v6Lens.length; k++) {
      const len = idx.v6Lens[k]!;
      const m = v.m6;
      m[0] = wordMask(v.v6[o]!, len); m[1] = wordMask(v.v6[o + 1]!, len - 32); m[2] = wordMask(v.v6[o + 2]!, len - 64); m[3] = wordMask(v.v6[o + 3]!, len - 96);
      const list = idx.v6Maps[k]!.get(v6Key(m[0]!, m[1]!, m[2]!, m[3]!));
      if (list !== undefined) considerV6(list, v);
    }
  }
}

type GroupSource = Pick<NormalizedGroup, 'allow' | 'deny' | 'mode' | 'allowList'>;

/** A group of lists; its entries are prepared on first use (an agent only ever needs its own function's groups). */
class LazyGroup {
  private ies: IndexedEntry[] | null = null;
  constructor(readonly src: GroupSource, readonly exact: boolean, readonly no: number) {}
  get mode(): Mode | null { return this.src.mode; }
  get allowList(): boolean { return this.src.allowList; }
  /** the deny entries, then the allow entries, prepared for matching (shared by every index of this group) */
  entries(): IndexedEntry[] {
    if (this.ies === null) {
      const { deny, allow } = this.src;
      const ies = new Array<IndexedEntry>(deny.length + allow.length);
      for (let i = 0; i < deny.length; i++) ies[i] = indexEntry(deny[i]!, true);
      for (let i = 0; i < allow.length; i++) ies[deny.length + i] = indexEntry(allow[i]!, false);
      this.ies = ies;
    }
    return this.ies;
  }
}
interface Resolved { groups: LazyGroup[]; key: string; index: MatchIndex | null; mode: Mode; allowList: boolean; known: boolean }

/**
 * A function's mode from the groups that apply to it, each as applying by exact name or by glob:
 * exact-name files beat globs; among equals the strictest wins; none sets one → monitor. The one
 * rule for the engine's policy and the agent's scoped reader (bundle.ts).
 */
export function functionMode(applying: Iterable<{ readonly exact: boolean; readonly mode: Mode | null }>): Mode {
  let exactMode: Mode | null = null;
  let globMode: Mode | null = null;
  for (const g of applying) {
    if (g.mode === null) continue;
    if (g.exact) { if (exactMode === null || MODE_RANK[g.mode] > MODE_RANK[exactMode]) exactMode = g.mode; }
    else if (globMode === null || MODE_RANK[g.mode] > MODE_RANK[globMode]) globMode = g.mode;
  }
  return exactMode ?? globMode ?? 'monitor';
}

export function hashText(canonicalJson: string): string {
  return `sha256:${createHash('sha256').update(canonicalJson).digest('hex').slice(0, 16)}`;
}

const POLICY_KEYS = 'groups,global,exceptions,responses';

/**
 * hashText(JSON.stringify(p)), fed to the hash one group at a time: the same bytes, without
 * building the whole (≈ 1 MB at 10k entries) canonical text, whose pieces the young-generation
 * GC would otherwise copy while it is being built.
 */
export function hashPolicy(p: NormalizedPolicy): string {
  if (Object.keys(p).join(',') !== POLICY_KEYS || !Array.isArray(p.groups) || p.global === undefined || p.exceptions === undefined || p.responses === undefined) {
    return hashText(JSON.stringify(p));
  }
  const h = createHash('sha256').update('{"groups":[');
  for (let i = 0; i < p.groups.length; i++) {
    const g = JSON.stringify(p.groups[i]) ?? 'null'; // as JSON.stringify writes a hole or undefined in an array
    h.update(i === 0 ? g : `,${g}`);
  }
  h.update(`],"global":${JSON.stringify(p.global)},"exceptions":${JSON.stringify(p.exceptions)},"responses":${JSON.stringify(p.responses)}}`);
  return `sha256:${h.digest('hex').slice(0, 16)}`;
}

/**
 * The compiled, indexed policy. Build it with `compilePolicy(repo)` or `readBundle(text)`.
 * `decide` looks up the function once (cached) to the index of everything that applies to it
 * (its groups, its exceptions and the global lists, deny and allow together, shared by every
 * function with the same groups), then walks that index once by kind: aws entries by service and
 * ARN (exact map, then globs grouped by literal prefix), hosts by exact map and a hashed table of
 * wildcard suffixes, IPs by prefix-length tables. No scan of the whole policy, no allocation.
 */
export class WardenPolicy implements CompiledPolicy {
  readonly policyVersion: string;
  readonly normalized: NormalizedPolicy;
  readonly entryCount: number;
  private readonly exact = new Map<string, LazyGroup[]>();
  private readonly globs: { pattern: string; group: LazyGroup }[] = [];
  private readonly global: LazyGroup;
  private groupCount = 0;
  private readonly cache = new Map<string, Resolved>();
  private lastName = '';
  private lastResolved: Resolved | null = null;
  /** indexes by group set (the sorted group numbers): functions with the same groups share one */
  private readonly indexes = new Map<string, MatchIndex>();

  /** `policy` must be canonical (see canonicalize); `version` is trusted when given (a verified bundle). */
  constructor(policy: NormalizedPolicy, version?: string) {
    this.normalized = policy;
    this.policyVersion = version ?? hashPolicy(policy);
    let count = policy.global.allow.length + policy.global.deny.length;
    for (const g of policy.groups) {
      count += g.allow.length + g.deny.length;
      const exactNames = g.functions.filter((f) => !hasWildcard(f));
      const globNames = g.functions.filter((f) => hasWildcard(f));
      if (exactNames.length > 0) {
        const gi = this.group(g, true);
        for (const f of exactNames) this.pushExact(f, gi);
      }
      if (globNames.length > 0) {
        const gi = this.group(g, false);
        for (const f of globNames) this.globs.push({ pattern: f, group: gi });
      }
    }
    const byFn = new Map<string, NormalizedEntry[]>();
    for (const x of policy.exceptions) {
      count++;
      const l = byFn.get(x.functionName);
      if (l) l.push(x.entry); else byFn.set(x.functionName, [x.entry]);
    }
    for (const [fn, entries] of byFn) this.pushExact(fn, this.group({ allow: entries, deny: [], mode: null, allowList: false }, true));
    // a literal, not a spread of policy.global: V8 gave the spread a new map per policy (its readers deoptimized each compile)
    this.global = this.group({ allow: policy.global.allow, deny: policy.global.deny, mode: null, allowList: false }, false);
    this.entryCount = count;
  }

  private group(src: GroupSource, exact: boolean): LazyGroup {
    return new LazyGroup(src, exact, this.groupCount++);
  }

  private pushExact(name: string, gi: LazyGroup): void {
    const l = this.exact.get(name);
    if (l) l.push(gi); else this.exact.set(name, [gi]);
  }

  get responses(): ResponsesConfig | null {
    return this.normalized.responses;
  }

  private resolve(name: string): Resolved {
    // the last function asked about (an agent asks about one; the engine asks decide, then modeFor)
    if (name === this.lastName && this.lastResolved !== null) return this.lastResolved;
    const hit = this.cache.get(name);
    if (hit !== undefined) { this.lastName = name; this.lastResolved = hit; return hit; }
    const groups: LazyGroup[] = [...(this.exact.get(name) ?? [])];
    for (const g of this.globs) if (globMatch(g.pattern, name) && !groups.includes(g.group)) groups.push(g.group);
    const r = this.resolvedFor(groups);
    if (this.cache.size >= MAX_CACHED_FUNCTIONS) { this.cache.clear(); this.indexes.clear(); }
    this.cache.set(name, r);
    this.lastName = name;
    this.lastResolved = r;
    return r;
  }

  private resolvedFor(groups: LazyGroup[]): Resolved {
    const all = [...groups, this.global];
    const key = all.map((g) => g.no).sort((a, b) => a - b).join(',');
    return { groups: all, key, index: null, mode: functionMode(groups), allowList: groups.some((g) => g.allowList), known: groups.length > 0 };
  }

  /** The index of a resolved group set, built on its first decision. */
  private indexOf(r: Resolved): MatchIndex {
    let idx = this.indexes.get(r.key);
    if (idx === undefined) {
      idx = new MatchIndex(r.groups);
      this.indexes.set(r.key, idx);
    }
    r.index = idx;
    return idx;
  }

  modeFor(functionName: string): Mode {
    try {
      return this.resolve(functionName).mode;
    } catch {
      return 'block';
    }
  }

  /**
   * Builds now what decisions would otherwise build on first use: the index of every function
   * named in the rules, of each function-name glob on its own, and of the global lists alone.
   */
  indexAll(): this {
    for (const name of this.exact.keys()) this.indexOf(this.resolve(name));
    for (const g of this.globs) this.indexOf(this.resolvedFor([g.group]));
    this.indexOf(this.resolvedFor([]));
    return this;
  }

  /** true when some function file names this function (exactly or by glob). */
  hasRulesFor(functionName: string): boolean {
    return this.resolve(functionName).known;
  }

  decide(fn: Pick<FunctionIdentity, 'name'>, access: Access, now: number): ListVerdict {
    try {
      const r = this.resolve(fn.name);
      const idx = r.index ?? this.indexOf(r);
      const v = viewOf(access, now);
      matchIndex(idx, v);
      if (v.bestDeny !== null) return v.bestDeny.verdict ?? verdictOf(v.bestDeny);
      if (v.bestAllow !== null) return v.bestAllow.verdict ?? verdictOf(v.bestAllow);
      return r.allowList ? UNLISTED : ALLOW_BY_DEFAULT;
    } catch {
      return INTERNAL_ERROR;
    }
  }
}

/** Normalizes a loaded repo (plus time-bound exceptions) into the canonical policy. */
export function normalizeRepo(repo: RulesRepo, opts: { exceptions?: AllowException[] } = {}): NormalizedPolicy {
  const groups: NormalizedGroup[] = repo.functions.map((f) => ({
    functions: f.data.functions,
    mode: f.data.mode ?? null,
    allowList: f.data.allow !== undefined,
    allow: (f.data.allow ?? []).map((e) => normalizeEntry(e, 'allow')),
    deny: (f.data.deny ?? []).map((e) => normalizeEntry(e, 'deny')),
  }));
  const g = repo.global?.data;
  return canonicalize({
    groups,
    global: { allow: (g?.allow ?? []).map((e) => normalizeEntry(e, 'allow')), deny: (g?.deny ?? []).map((e) => normalizeEntry(e, 'deny')) },
    exceptions: (opts.exceptions ?? []).map((x) => {
      const e = normalizeEntry({ ...x.entry, id: undefined, expires: undefined }, 'allow');
      e.id = `exception:${x.id}`;
      e.expiresAt = x.expiresAt;
      return { functionName: x.functionName, entry: e };
    }),
    responses: repo.responses?.data ?? null,
  }, { inPlace: true });
}

export function compilePolicy(repo: RulesRepo, opts: { exceptions?: AllowException[] } = {}): WardenPolicy {
  return new WardenPolicy(normalizeRepo(repo, opts));
}
