import { isIP } from 'node:net';
import type { AccessEvent } from '../events/access-event';
import { parseTime } from '../stream/access-line';

/**
 * What learn remembers about a log: per function, every distinct access with how often and when
 * it was seen. Memory grows with the number of distinct accesses, never with the size of the log.
 */
export interface Seen {
  count: number;
  /** epoch ms */
  first: number;
  last: number;
}

export interface AwsKey { service: string; action: string; resource: string | null }
export interface HostKey { host: string; port: number | null }

export interface FunctionObservations {
  name: string;
  /** key: service \0 action \0 resource ('' when unknown) */
  aws: Map<string, Seen>;
  /** key: host \0 port ('' when unknown) */
  hosts: Map<string, Seen>;
  /** key: a normalized IP address \0 port ('' when unknown) */
  ips: Map<string, Seen>;
  /**
   * Hot-path memo keyed by the raw strings of the event, sharing the Seen objects of the maps
   * above: a repeat access costs a few Map lookups and no string building or normalization.
   */
  raw?: RawIndex;
}

interface AwsNode { prefix: string; byResource: Map<string, Seen>; none: Seen | null }
interface NetNode { norm: string; ip: boolean; byPort: Map<number, Seen> }
interface RawIndex {
  aws: Map<string, Map<string, AwsNode>>;
  net: Map<string, NetNode | null>;
  /**
   * By access object: the log reader shares one frozen access object among all events with the
   * same access text, so a repeat access is one identity lookup. Only frozen (shared) objects are
   * cached, and the cache is cleared when full, so it stays bounded.
   */
  byObject: Map<AccessEvent['access'], Seen | null>;
}

/** entries of all functions' byObject caches together (cleared all at once past it) */
const MAX_BY_OBJECT = 100_000;

export interface Observations {
  functions: Map<string, FunctionObservations>;
  events: number;
  /** sum of the events' `count` */
  accesses: number;
  /** actions compare case-insensitively: the spelling first seen, by lower-case service:action */
  actionCase: Map<string, string>;
  /** entries in the functions' by-object caches, to bound them together */
  cachedObjects?: number;
}

export function newObservations(): Observations {
  return { functions: new Map(), events: 0, accesses: 0, actionCase: new Map(), cachedObjects: 0 };
}

const SEP = '\0';

export const awsKey = (service: string, action: string, resource: string | null): string =>
  service + SEP + action + SEP + (resource ?? '');
export function splitAwsKey(k: string): AwsKey {
  const [service, action, resource] = k.split(SEP) as [string, string, string];
  return { service, action, resource: resource === '' ? null : resource };
}
export const hostKey = (host: string, port: number | null): string => host + SEP + (port === null ? '' : String(port));
export function splitHostKey(k: string): HostKey {
  const i = k.indexOf(SEP);
  const p = k.slice(i + 1);
  return { host: k.slice(0, i), port: p === '' ? null : Number(p) };
}

/** Host names compare case-insensitively with a trailing dot ignored (DESIGN.md). */
export function normalizeHost(host: string): string {
  let h = host.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** An IP literal in canonical form (IPv4-mapped IPv6 as plain IPv4), or null when `s` is not an IP. */
export function normalizeIp(s: string): string | null {
  let v = s;
  if (v.startsWith('[') && v.endsWith(']')) v = v.slice(1, -1);
  const fam = isIP(v);
  if (fam === 4) return v;
  if (fam !== 6) return null;
  const lower = v.toLowerCase();
  const m = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (m && isIP(m[1]!) === 4) return m[1]!;
  // canonical compressed form via URL parsing
  try {
    return new URL(`http://[${lower}]/`).hostname.slice(1, -1);
  } catch {
    return lower;
  }
}

/** The Seen of `key` in `map`, created empty (count 0) when new; the caller adds the event. */
function entry(map: Map<string, Seen>, key: string): Seen {
  let s = map.get(key);
  if (s === undefined) map.set(key, (s = { count: 0, first: Infinity, last: -Infinity }));
  return s;
}

function add(s: Seen, count: number, first: number, last: number): void {
  s.count += count;
  if (first < s.first) s.first = first;
  if (last > s.last) s.last = last;
}

const NO_PORT = -1;

/** Adds one event. Returns false (and records nothing) for an event that names nothing learnable. */
export function observe(obs: Observations, ev: AccessEvent): boolean {
  const a = ev.access;
  const time = ev.time;
  const t = parseTime(time);
  const fs = ev.firstSeen, ls = ev.lastSeen;
  const first = fs === undefined || fs === time ? t : parseTime(fs);
  const last = ls === undefined || ls === time ? t : parseTime(ls);
  let fo = obs.functions.get(ev.function.name);
  if (!fo) {
    fo = { name: ev.function.name, aws: new Map(), hosts: new Map(), ips: new Map(), raw: newRaw() };
    obs.functions.set(ev.function.name, fo);
  }
  const raw = fo.raw ?? (fo.raw = newRaw());
  obs.events++;
  obs.accesses += ev.count;
  let s = raw.byObject.get(a);
  if (s === undefined) {
    s = seenOf(obs, fo, raw, a);
    if (Object.isFrozen(a)) {
      if ((obs.cachedObjects ?? 0) >= MAX_BY_OBJECT) {
        for (const f of obs.functions.values()) f.raw?.byObject.clear();
        obs.cachedObjects = 0;
      }
      raw.byObject.set(a, s);
      obs.cachedObjects = (obs.cachedObjects ?? 0) + 1;
    }
  }
  if (s === null) return false;
  add(s, ev.count, first, last);
  return true;
}

const newRaw = (): RawIndex => ({ aws: new Map(), net: new Map(), byObject: new Map() });

/** The Seen record of an access (created empty when new), or null when it names nothing learnable. */
function seenOf(obs: Observations, fo: FunctionObservations, raw: RawIndex, a: AccessEvent['access']): Seen | null {
  if (a.kind === 'aws') {
    let byAction = raw.aws.get(a.service!);
    if (!byAction) raw.aws.set(a.service!, (byAction = new Map()));
    let node = byAction.get(a.action!);
    if (!node) {
      const service = a.service!.toLowerCase();
      const lc = `${service}:${a.action!.toLowerCase()}`;
      let action = obs.actionCase.get(lc);
      if (action === undefined) obs.actionCase.set(lc, (action = a.action!));
      node = { prefix: awsKey(service, action, null), byResource: new Map(), none: null };
      byAction.set(a.action!, node);
    }
    const r = a.resource;
    if (r === undefined) return node.none ?? (node.none = entry(fo.aws, node.prefix));
    let s = node.byResource.get(r);
    if (s === undefined) node.byResource.set(r, (s = entry(fo.aws, node.prefix + r)));
    return s;
  }
  // a host name wins over the address; an IP-literal host is an address
  const target = a.host ?? a.address;
  if (target === undefined) return null;
  let net = raw.net.get(target);
  if (net === undefined) {
    const ip = normalizeIp(target);
    net = ip !== null ? { norm: ip, ip: true, byPort: new Map() }
      : a.host !== undefined ? { norm: normalizeHost(a.host), ip: false, byPort: new Map() }
        : null;
    raw.net.set(target, net);
  }
  if (net === null) return null;
  const port = a.port ?? NO_PORT;
  let s = net.byPort.get(port);
  if (s === undefined) net.byPort.set(port, (s = entry(net.ip ? fo.ips : fo.hosts, hostKey(net.norm, port === NO_PORT ? null : port))));
  return s;
}
