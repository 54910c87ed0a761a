import { createHash } from 'node:crypto';
import type { Access, FunctionIdentity, Mode } from '../events/access-event';
import type { Severity } from '../events/decision-event';
import { globMatch, globMatchFrom, hasWildcard, literalPrefix } from './glob';
import { RadixTree } from './radix';
import { hostAsIp, ipKey, maskIp, parseCidr, parseIp, type Ip } from './ip';
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
const NO_IPS: Ip[] = [];
const SEV_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
const MODE_RANK: Record<Mode, number> = { learn: 0, monitor: 1, block: 2 };
const MAX_CACHED_FUNCTIONS = 10_000;

/** An entry with what matching needs precomputed. */
interface IndexedEntry {
  e: NormalizedEntry;
  // copied out of `e` so the hot loop reads one object shape (NormalizedEntry shapes vary by kind)
  id: string;
  severity: Severity;
  /** -1: any port */
  port: number;
  /** Infinity: never expires */
  expiresAt: number;
  /** the verdict this entry decides, built once (frozen: shared by every decision it makes) */
  verdict: ListVerdict;
  /** aws: exact lower-case action, or null when `action` is a glob */
  actionExact: string | null;
  actionGlob: string | null;
  /** aws: resource glob to check (null when the bucket lookup already proved it, or no resource) */
  resourceGlob: string | null;
  /** length of resourceGlob's literal prefix: the prefix tree proved it, matching starts after it */
  resourceFrom: number;
  rank: number;
}

interface ServiceBucket {
  anyResource: IndexedEntry[];
  exact: Map<string, IndexedEntry[]>;
  /** ARN globs grouped by their literal prefix (the text before the first wildcard), in a radix tree */
  prefixes: RadixTree<IndexedEntry>;
}

interface TrieNode { children: Map<string, TrieNode>; under: IndexedEntry[] | null }

/** One list (the allow or the deny list of one group), indexed by kind. */
class ListIndex {
  size = 0;
  readonly aws = new Map<string, ServiceBucket>();
  /** the `*` service bucket (looked up on every aws decision, so kept at hand) */
  awsAnyService: ServiceBucket | undefined = undefined;
  readonly hostExact = new Map<string, IndexedEntry[]>();
  readonly trie: TrieNode = { children: new Map(), under: null };
  hasTrie = false;
  readonly v4 = new Map<number, Map<number, IndexedEntry[]>>();
  v4Lens: number[] = [];
  readonly v6 = new Map<number, Map<string, IndexedEntry[]>>();
  v6Lens: number[] = [];
  hasHostOrIp = false;

  add(e: NormalizedEntry): void {
    this.size++;
    const ie: IndexedEntry = {
      e, id: e.id, severity: e.severity ?? 'medium', port: e.port ?? -1, expiresAt: e.expiresAt ?? Infinity,
      verdict: Object.freeze(e.severity !== undefined
        ? { verdict: 'deny' as const, rule: e.id, severity: e.severity }
        : { verdict: 'allow' as const, rule: e.id, severity: 'info' as const }),
      actionExact: null, actionGlob: null, resourceGlob: null, resourceFrom: 0, rank: SEV_RANK[e.severity ?? 'info'],
    };
    if (e.kind === 'aws') {
      const action = e.action ?? '*';
      if (hasWildcard(action)) { if (action !== '*') ie.actionGlob = action; } else ie.actionExact = action;
      let b = this.aws.get(e.service ?? '*');
      if (!b) {
        b = { anyResource: [], exact: new Map(), prefixes: new RadixTree() };
        this.aws.set(e.service ?? '*', b);
        if ((e.service ?? '*') === '*') this.awsAnyService = b;
      }
      const r = e.resource;
      if (r === undefined) b.anyResource.push(ie);
      else if (!hasWildcard(r)) push(b.exact, r, ie);
      else {
        const prefix = literalPrefix(r);
        // `prefix*` matches whatever follows the prefix the tree lookup proved: nothing left to check
        if (r.length !== prefix.length + 1 || r.charCodeAt(prefix.length) !== 42 /* * */) {
          ie.resourceGlob = r;
          ie.resourceFrom = prefix.length;
        }
        b.prefixes.insert(prefix, ie);
      }
      return;
    }
    this.hasHostOrIp = true;
    if (e.kind === 'host') {
      const host = e.host!;
      if (!e.wildcard) { push(this.hostExact, host, ie); return; }
      this.hasTrie = true;
      let node = this.trie;
      const labels = host.split('.');
      for (let i = labels.length - 1; i >= 0; i--) {
        let next = node.children.get(labels[i]!);
        if (!next) { next = { children: new Map(), under: null }; node.children.set(labels[i]!, next); }
        node = next;
      }
      (node.under ??= []).push(ie);
      return;
    }
    const c = parseCidr(e.cidr!);
    if ('error' in c) throw new Error(`bad cidr in compiled policy: ${e.cidr}`);
    const { ip, prefix } = c.cidr;
    if (ip.v === 4) {
      let m = this.v4.get(prefix);
      if (!m) { m = new Map(); this.v4.set(prefix, m); this.v4Lens = [...this.v4.keys()].sort((a, b) => b - a); }
      push(m, (maskIp(ip, prefix) as { n: number }).n, ie);
    } else {
      let m = this.v6.get(prefix);
      if (!m) { m = new Map(); this.v6.set(prefix, m); this.v6Lens = [...this.v6.keys()].sort((a, b) => b - a); }
      push(m, ipKey(maskIp(ip, prefix)), ie);
    }
  }
}

function push<K>(m: Map<K, IndexedEntry[]>, k: K, ie: IndexedEntry): void {
  const l = m.get(k);
  if (l) l.push(ie); else m.set(k, [ie]);
}


/** What matching needs from one access, computed once per decision. */
interface AccessView {
  aws: boolean;
  service: string;
  action: string;
  resource: string | undefined;
  host: string | undefined;
  ips: Ip[];
  port: number | undefined;
  now: number;
  /** reusable buffer for radix lookups (decide is synchronous: no sharing across calls) */
  scratch: IndexedEntry[][];
}

const SCRATCH: IndexedEntry[][] = [];
// One view, refilled per decision: decide is synchronous and never re-entered, so nothing else
// can observe it between the fill and the answer (saves an allocation per decision).
const VIEW: AccessView = { aws: false, service: '', action: '', resource: undefined, host: undefined, ips: NO_IPS, port: undefined, now: 0, scratch: SCRATCH };

function viewOf(access: Access, now: number): AccessView {
  let host: string | undefined;
  let ips = NO_IPS;
  if (typeof access.host === 'string' && access.host.length > 0) {
    host = access.host.toLowerCase();
    if (host.endsWith('.')) host = host.slice(0, -1);
    const ip = hostAsIp(host);
    if (ip) { ips = [ip]; host = undefined; }
  }
  if (typeof access.address === 'string' && access.address.length > 0) {
    // the loose parse too: an address written as "2852039166" must still hit a v4 range
    const ip = parseIp(access.address) ?? hostAsIp(access.address);
    if (ip) ips = ips === NO_IPS ? [ip] : [...ips, ip];
  }
  const v = VIEW;
  v.aws = access.kind === 'aws';
  v.service = typeof access.service === 'string' ? access.service.toLowerCase() : '';
  v.action = typeof access.action === 'string' ? access.action.toLowerCase() : '';
  v.resource = typeof access.resource === 'string' ? access.resource : undefined;
  v.host = host;
  v.ips = ips;
  v.port = access.port;
  v.now = now;
  return v;
}

/** Keeps the winner: deny — highest severity, then smallest id; allow — smallest id. Order-independent. */
function better(a: IndexedEntry | null, b: IndexedEntry): IndexedEntry {
  if (a === null) return b;
  if (b.rank !== a.rank) return b.rank > a.rank ? b : a;
  return b.id < a.id ? b : a;
}

function consider(list: IndexedEntry[] | undefined, v: AccessView, best: IndexedEntry | null, checkAws: boolean): IndexedEntry | null {
  if (list === undefined) return best;
  for (let i = 0; i < list.length; i++) {
    const ie = list[i]!;
    if (v.now >= ie.expiresAt) continue;
    if (checkAws) {
      if (ie.actionExact !== null ? ie.actionExact !== v.action : ie.actionGlob !== null && !globMatch(ie.actionGlob, v.action)) continue;
      if (ie.resourceGlob !== null && (v.resource === undefined || !globMatchFrom(ie.resourceGlob, v.resource, ie.resourceFrom))) continue;
    } else if (ie.port !== -1 && ie.port !== v.port) continue;
    best = better(best, ie);
  }
  return best;
}

function matchBucket(b: ServiceBucket | undefined, v: AccessView, best: IndexedEntry | null): IndexedEntry | null {
  if (b === undefined) return best;
  best = consider(b.anyResource, v, best, true);
  const r = v.resource;
  if (r !== undefined) {
    best = consider(b.exact.get(r), v, best, true);
    if (b.prefixes.size > 0) {
      const lists = v.scratch;
      lists.length = 0;
      b.prefixes.collect(r, lists);
      for (let i = 0; i < lists.length; i++) best = consider(lists[i], v, best, true);
    }
  }
  return best;
}

function matchList(idx: ListIndex, v: AccessView, best: IndexedEntry | null, hostsAndIps: boolean): IndexedEntry | null {
  if (idx.size === 0) return best;
  if (v.aws) {
    best = matchBucket(idx.aws.get(v.service), v, best);
    best = matchBucket(idx.awsAnyService, v, best);
  }
  if (!hostsAndIps || !idx.hasHostOrIp) return best;
  const h = v.host;
  if (h !== undefined) {
    best = consider(idx.hostExact.get(h), v, best, false);
    if (idx.hasTrie) {
      let node: TrieNode | undefined = idx.trie;
      let end = h.length;
      // walk labels right to left; `under` entries match only when more labels remain (never the apex)
      while (node !== undefined && end > 0) {
        const dot = h.lastIndexOf('.', end - 1);
        node = node.children.get(h.slice(dot + 1, end));
        if (node === undefined) break;
        if (dot < 0) break;
        if (node.under !== null) best = consider(node.under, v, best, false);
        end = dot;
      }
    }
  }
  for (let i = 0; i < v.ips.length; i++) {
    const ip = v.ips[i]!;
    if (ip.v === 4) {
      for (const len of idx.v4Lens) {
        const key = len === 0 ? 0 : (ip.n & (0xffffffff << (32 - len))) >>> 0;
        best = consider(idx.v4.get(len)!.get(key), v, best, false);
      }
    } else {
      for (const len of idx.v6Lens) best = consider(idx.v6.get(len)!.get(ipKey(maskIp(ip, len))), v, best, false);
    }
  }
  return best;
}

interface GroupIndex { allow: ListIndex; deny: ListIndex; mode: Mode | null; allowList: boolean; exact: boolean }
type GroupSource = Pick<NormalizedGroup, 'allow' | 'deny' | 'mode' | 'allowList'>;

/** A group's lists are indexed on first use: an agent only ever needs its own function's groups. */
class LazyGroup {
  private idx: GroupIndex | null = null;
  constructor(private readonly src: GroupSource, readonly exact: boolean) {}
  get mode(): Mode | null { return this.src.mode; }
  get allowList(): boolean { return this.src.allowList; }
  index(): GroupIndex {
    if (this.idx === null) {
      const allow = new ListIndex(), deny = new ListIndex();
      for (const e of this.src.allow) allow.add(e);
      for (const e of this.src.deny) deny.add(e);
      this.idx = { allow, deny, mode: this.src.mode, allowList: this.src.allowList, exact: this.exact };
    }
    return this.idx;
  }
}
interface Resolved { groups: GroupIndex[]; mode: Mode; allowList: boolean; known: boolean }

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
 * `decide` looks up the function's groups once (cached), then each list by kind: aws entries by
 * service and ARN (exact map, then globs grouped by literal prefix), hosts by exact map and a
 * reversed-label trie, IPs by prefix-length maps. No scan of the whole policy.
 */
export class WardenPolicy implements CompiledPolicy {
  readonly policyVersion: string;
  readonly normalized: NormalizedPolicy;
  readonly entryCount: number;
  private readonly exact = new Map<string, LazyGroup[]>();
  private readonly globs: { pattern: string; group: LazyGroup }[] = [];
  private readonly global: LazyGroup;
  private readonly cache = new Map<string, Resolved>();

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
        const gi = new LazyGroup(g, true);
        for (const f of exactNames) this.pushExact(f, gi);
      }
      if (globNames.length > 0) {
        const gi = new LazyGroup(g, false);
        for (const f of globNames) this.globs.push({ pattern: f, group: gi });
      }
    }
    const byFn = new Map<string, NormalizedEntry[]>();
    for (const x of policy.exceptions) {
      count++;
      const l = byFn.get(x.functionName);
      if (l) l.push(x.entry); else byFn.set(x.functionName, [x.entry]);
    }
    for (const [fn, entries] of byFn) this.pushExact(fn, new LazyGroup({ allow: entries, deny: [], mode: null, allowList: false }, true));
    this.global = new LazyGroup({ ...policy.global, mode: null, allowList: false }, false);
    this.entryCount = count;
  }

  private pushExact(name: string, gi: LazyGroup): void {
    const l = this.exact.get(name);
    if (l) l.push(gi); else this.exact.set(name, [gi]);
  }

  get responses(): ResponsesConfig | null {
    return this.normalized.responses;
  }

  private resolve(name: string): Resolved {
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit;
    const groups: LazyGroup[] = [...(this.exact.get(name) ?? [])];
    for (const g of this.globs) if (globMatch(g.pattern, name) && !groups.includes(g.group)) groups.push(g.group);
    // mode: exact-name files beat globs; among equals the strictest wins
    let mode: Mode | null = null;
    for (const pass of [true, false]) {
      for (const g of groups) if (g.exact === pass && g.mode !== null && (mode === null || MODE_RANK[g.mode] > MODE_RANK[mode])) mode = g.mode;
      if (mode !== null) break;
    }
    const r: Resolved = { groups: [...groups, this.global].map((g) => g.index()), mode: mode ?? 'monitor', allowList: groups.some((g) => g.allowList), known: groups.length > 0 };
    if (this.cache.size >= MAX_CACHED_FUNCTIONS) this.cache.clear();
    this.cache.set(name, r);
    return r;
  }

  modeFor(functionName: string): Mode {
    try {
      return this.resolve(functionName).mode;
    } catch {
      return 'block';
    }
  }

  /** Indexes every group now (otherwise each is indexed on the first decision that needs it). */
  indexAll(): this {
    for (const l of this.exact.values()) for (const g of l) g.index();
    for (const g of this.globs) g.group.index();
    this.global.index();
    return this;
  }

  /** true when some function file names this function (exactly or by glob). */
  hasRulesFor(functionName: string): boolean {
    return this.resolve(functionName).known;
  }

  decide(fn: Pick<FunctionIdentity, 'name'>, access: Access, now: number): ListVerdict {
    try {
      const r = this.resolve(fn.name);
      const v = viewOf(access, now);
      let deny: IndexedEntry | null = null;
      for (let i = 0; i < r.groups.length; i++) deny = matchList(r.groups[i]!.deny, v, deny, true);
      if (deny !== null) return deny.verdict;
      let allow: IndexedEntry | null = null;
      for (let i = 0; i < r.groups.length; i++) allow = matchList(r.groups[i]!.allow, v, allow, !v.aws);
      if (allow !== null) return allow.verdict;
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
  });
}

export function compilePolicy(repo: RulesRepo, opts: { exceptions?: AllowException[] } = {}): WardenPolicy {
  return new WardenPolicy(normalizeRepo(repo, opts));
}
