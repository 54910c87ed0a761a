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
}

export interface Observations {
  functions: Map<string, FunctionObservations>;
  events: number;
  /** sum of the events' `count` */
  accesses: number;
  /** actions compare case-insensitively: the spelling first seen, by lower-case service:action */
  actionCase: Map<string, string>;
}

export function newObservations(): Observations {
  return { functions: new Map(), events: 0, accesses: 0, actionCase: new Map() };
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

function bump(map: Map<string, Seen>, key: string, count: number, first: number, last: number): Seen {
  const s = map.get(key);
  if (s) {
    s.count += count;
    if (first < s.first) s.first = first;
    if (last > s.last) s.last = last;
    return s;
  }
  const n = { count, first, last };
  map.set(key, n);
  return n;
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
  const t = parseTime(ev.time);
  const first = ev.firstSeen ? parseTime(ev.firstSeen) : t;
  const last = ev.lastSeen ? parseTime(ev.lastSeen) : t;
  let fo = obs.functions.get(ev.function.name);
  if (!fo) {
    fo = { name: ev.function.name, aws: new Map(), hosts: new Map(), ips: new Map(), raw: { aws: new Map(), net: new Map() } };
    obs.functions.set(ev.function.name, fo);
  }
  const raw = fo.raw ?? (fo.raw = { aws: new Map(), net: new Map() });
  obs.events++;
  obs.accesses += ev.count;
  const count = ev.count;
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
    if (r === undefined) {
      if (node.none) add(node.none, count, first, last);
      else node.none = bump(fo.aws, node.prefix, count, first, last);
    } else {
      const s = node.byResource.get(r);
      if (s) add(s, count, first, last);
      else node.byResource.set(r, bump(fo.aws, node.prefix + r, count, first, last));
    }
    return true;
  }
  // a host name wins over the address; an IP-literal host is an address
  const target = a.host ?? a.address;
  if (target === undefined) return false;
  let net = raw.net.get(target);
  if (net === undefined) {
    const ip = normalizeIp(target);
    net = ip !== null ? { norm: ip, ip: true, byPort: new Map() }
      : a.host !== undefined ? { norm: normalizeHost(a.host), ip: false, byPort: new Map() }
        : null;
    raw.net.set(target, net);
  }
  if (net === null) return false;
  const port = a.port ?? NO_PORT;
  const s = net.byPort.get(port);
  if (s) add(s, count, first, last);
  else net.byPort.set(port, bump(net.ip ? fo.ips : fo.hosts, hostKey(net.norm, port === NO_PORT ? null : port), count, first, last));
  return true;
}
