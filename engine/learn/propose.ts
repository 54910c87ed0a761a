import {
  awsKey, hostKey, splitAwsKey, splitHostKey, type FunctionObservations, type Seen,
} from './observations';

/**
 * Turns what one function was seen doing into allow entries. By default every entry is exact
 * (one ARN, one host[:port], one action, one IP): the tightest list that covers the log. With
 * `generalize`, a `*` is introduced only where at least `threshold` distinct observed values share
 * the prefix it stands for, and the entry lists what it covers so a reviewer can judge it.
 */
export type LearnedEntry =
  | { kind: 'aws'; aws: string; resource: string | null; seen: Seen; covers?: string[]; note?: string }
  | { kind: 'host'; host: string; seen: Seen; covers?: string[]; note?: string }
  | { kind: 'cidr'; cidr: string; port: number | null; seen: Seen; covers?: string[]; note?: string };

export interface ProposeOptions {
  /** null: exact entries only. */
  generalize: { threshold: number } | null;
}

export const DEFAULT_THRESHOLD = 3;

// Multi-label public suffixes under which a `*.` would span unrelated owners.
const SHARED_SUFFIXES = new Set([
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'com.au', 'net.au', 'org.au', 'co.jp', 'co.nz', 'com.br', 'com.cn',
  'co.in', 'co.za', 'com.mx', 'com.tr', 'amazonaws.com', 'cloudfront.net', 'herokuapp.com', 'github.io',
  'vercel.app', 'netlify.app', 'azurewebsites.net', 'appspot.com', 'web.app', 'firebaseapp.com',
]);

function merge(into: Seen, s: Seen): void {
  into.count += s.count;
  if (s.first < into.first) into.first = s.first;
  if (s.last > into.last) into.last = s.last;
}
const copy = (s: Seen): Seen => ({ count: s.count, first: s.first, last: s.last });

/** Whether a literal contains characters that an allow-list glob would read as wildcards. */
export const hasGlobChars = (s: string): boolean => s.includes('*') || s.includes('?');
const GLOB_NOTE = 'the observed value contains "*" or "?", which a rule reads as a wildcard: this entry matches more than was observed';

interface Group<T> { pattern: T; seen: Seen; covers: string[] }

/** Collapses values sharing a parent (as computed by `parentOf`) into `parent + '*'` when there are at least `threshold`. */
function collapse(
  values: Map<string, Seen>, parentOf: (v: string) => string | null, threshold: number, star = '*',
  within: (parent: string, v: string) => boolean = (p, v) => v.startsWith(p),
): Map<string, Group<string>> {
  const byParent = new Map<string, string[]>();
  for (const v of values.keys()) {
    const p = parentOf(v);
    if (p === null) continue;
    const list = byParent.get(p);
    if (list) list.push(v); else byParent.set(p, [v]);
  }
  const out = new Map<string, Group<string>>();
  const taken = new Set<string>();
  const parents = [...byParent].filter(([, members]) => members.length >= threshold).map(([p]) => p);
  // an exact value deeper under a generalized parent is covered by its `*` too: fold it in
  for (const v of values.keys()) {
    const p = parentOf(v);
    for (const q of parents) {
      if (q !== p && within(q, v)) { byParent.get(p as string)?.splice(byParent.get(p as string)!.indexOf(v), 1); byParent.get(q)!.push(v); break; }
    }
  }
  for (const [parent, members] of byParent) {
    if (members.length < threshold && !parents.includes(parent)) continue;
    if (members.length === 0) continue;
    const pattern = parent + star;
    const seen = copy(values.get(members[0]!)!);
    for (const m of members.slice(1)) merge(seen, values.get(m)!);
    out.set(pattern, { pattern, seen, covers: members.sort() });
    for (const m of members) taken.add(m);
  }
  for (const [v, s] of values) if (!taken.has(v)) out.set(v, { pattern: v, seen: copy(s), covers: [] });
  return out;
}

/** `arn:aws:dynamodb:us-east-1:1:table/orders` → `arn:aws:dynamodb:us-east-1:1:table/`; never cuts into the first five ARN fields. */
export function arnParent(arn: string): string | null {
  let colons = 0;
  let start = -1;
  for (let i = 0; i < arn.length; i++) {
    if (arn[i] === ':' && ++colons === 5) { start = i + 1; break; }
  }
  if (start < 0 || !arn.startsWith('arn:')) return null;
  for (let i = arn.length - 2; i >= start; i--) {
    const c = arn[i];
    if (c === '/' || c === ':') return arn.slice(0, i + 1);
  }
  return null;
}

/** `db.eu.example.com` → `example.com`'s child wildcard parent `eu.example.com`; null when too broad. */
export function hostParent(host: string): string | null {
  const i = host.indexOf('.');
  if (i < 0) return null;
  const parent = host.slice(i + 1);
  if (!parent.includes('.') || SHARED_SUFFIXES.has(parent)) return null;
  return parent;
}

/** Leading verb of an operation name: `GetItem` → `Get`, `BatchWriteItem` → `Batch`. */
export function actionVerb(action: string): string | null {
  const m = /^[A-Z][a-z]+(?=[A-Z0-9])/.exec(action);
  return m ? m[0] : null;
}

function ipParent(ip: string): string | null {
  if (ip.includes(':')) return null; // IPv6 stays exact: prefixes are not readable from compressed forms
  const parts = ip.split('.');
  return parts.length === 4 ? `${parts.slice(0, 3).join('.')}.` : null;
}

/**
 * Folds accesses into a broader observed one that already covers them: an action seen without a
 * resource covers it with any resource, a host seen without a port covers every port. Writing
 * both would only add entries the broader one shadows.
 */
export function subsume(fo: FunctionObservations): FunctionObservations {
  const fold = (m: Map<string, Seen>, broader: (k: string) => string | null): Map<string, Seen> => {
    const out = new Map<string, Seen>();
    for (const [k, s] of m) out.set(k, copy(s));
    for (const [k, s] of m) {
      const b = broader(k);
      if (b === null || b === k || !m.has(b)) continue;
      merge(out.get(b)!, s);
      out.delete(k);
    }
    return out;
  };
  const noResource = (k: string): string | null => { const a = splitAwsKey(k); return a.resource === null ? null : awsKey(a.service, a.action, null); };
  const noPort = (k: string): string | null => { const h = splitHostKey(k); return h.port === null ? null : hostKey(h.host, null); };
  return { name: fo.name, aws: fold(fo.aws, noResource), hosts: fold(fo.hosts, noPort), ips: fold(fo.ips, noPort) };
}

export function propose(observed: FunctionObservations, opts: ProposeOptions): LearnedEntry[] {
  const fo = subsume(observed);
  const threshold = opts.generalize?.threshold ?? Infinity;
  const entries: LearnedEntry[] = [];

  // AWS: first resources per (service, action), then actions per (service, resource pattern).
  const perAction = new Map<string, Map<string, Seen>>(); // service:action -> resource('' none) -> seen
  for (const [k, s] of fo.aws) {
    const { service, action, resource } = splitAwsKey(k);
    const id = `${service}:${action}`;
    let m = perAction.get(id);
    if (!m) perAction.set(id, (m = new Map()));
    m.set(resource ?? '', s);
  }
  const perResource = new Map<string, Map<string, { seen: Seen; covers: string[] }>>(); // service \0 resource -> action -> seen
  for (const [id, resources] of perAction) {
    const groups = opts.generalize
      ? collapse(resources, (r) => (r === '' ? null : arnParent(r)), threshold)
      : new Map([...resources].map(([r, s]) => [r, { pattern: r, seen: copy(s), covers: [] as string[] }]));
    const [service, action] = [id.slice(0, id.indexOf(':')), id.slice(id.indexOf(':') + 1)];
    for (const g of groups.values()) {
      const key = `${service}\0${g.pattern}`;
      let m = perResource.get(key);
      if (!m) perResource.set(key, (m = new Map()));
      m.set(action, { seen: g.seen, covers: g.covers });
    }
  }
  for (const [key, actions] of perResource) {
    const [service, pattern] = key.split('\0') as [string, string];
    const resource = pattern === '' ? null : pattern;
    const resCovers = new Map<string, string[]>();
    const seenByAction = new Map<string, Seen>();
    for (const [a, v] of actions) { seenByAction.set(a, v.seen); resCovers.set(a, v.covers); }
    const groups = opts.generalize
      ? collapse(seenByAction, actionVerb, threshold)
      : new Map([...seenByAction].map(([a, s]) => [a, { pattern: a, seen: copy(s), covers: [] as string[] }]));
    for (const g of groups.values()) {
      const coversRes = g.covers.length ? g.covers.flatMap((a) => resCovers.get(a) ?? []) : resCovers.get(g.pattern) ?? [];
      const covers = [
        ...g.covers.map((a) => `${service}:${a}`),
        ...[...new Set(coversRes)].sort(),
      ];
      const e: LearnedEntry = { kind: 'aws', aws: `${service}:${g.pattern}`, resource, seen: g.seen };
      if (covers.length) e.covers = covers;
      if (!g.covers.length && !coversRes.length && (hasGlobChars(g.pattern) || (resource !== null && hasGlobChars(resource)))) e.note = GLOB_NOTE;
      entries.push(e);
    }
  }

  // Hosts and IPs: per port, names sharing a parent domain, addresses sharing a /24.
  const perPort = (m: Map<string, Seen>): Map<string, Map<string, Seen>> => {
    const out = new Map<string, Map<string, Seen>>();
    for (const [k, s] of m) {
      const { host, port } = splitHostKey(k);
      const pk = port === null ? '' : String(port);
      let g = out.get(pk);
      if (!g) out.set(pk, (g = new Map()));
      g.set(host, s);
    }
    return out;
  };
  const exact = (m: Map<string, Seen>): Map<string, Group<string>> =>
    new Map([...m].map(([v, s]) => [v, { pattern: v, seen: copy(s), covers: [] as string[] }]));
  for (const [pk, hosts] of perPort(fo.hosts)) {
    const groups = opts.generalize
      ? collapse(hosts, (h) => { const p = hostParent(h); return p === null ? null : `*.${p}`; }, threshold, '', (p, v) => v.endsWith(p.slice(1)))
      : exact(hosts);
    for (const g of groups.values()) {
      const e: LearnedEntry = { kind: 'host', host: pk === '' ? g.pattern : `${g.pattern}:${pk}`, seen: g.seen };
      if (g.covers.length) e.covers = g.covers;
      entries.push(e);
    }
  }
  for (const [pk, ips] of perPort(fo.ips)) {
    const groups = opts.generalize ? collapse(ips, ipParent, threshold, '0') : exact(ips);
    for (const g of groups.values()) {
      const cidr = g.covers.length ? `${g.pattern}/24` : `${g.pattern}/${g.pattern.includes(':') ? 128 : 32}`;
      const e: LearnedEntry = { kind: 'cidr', cidr, port: pk === '' ? null : Number(pk), seen: g.seen };
      if (g.covers.length) e.covers = g.covers;
      entries.push(e);
    }
  }

  return entries.sort(compareEntries);
}

const entryText = (e: LearnedEntry): string =>
  e.kind === 'aws' ? `0${e.aws}\0${e.resource ?? ''}` : e.kind === 'host' ? `1${e.host}` : `2${e.cidr}\0${e.port ?? ''}`;
function compareEntries(a: LearnedEntry, b: LearnedEntry): number {
  const x = entryText(a);
  const y = entryText(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
