/**
 * Process-wide capture state shared by every hook (and by every copy of the agent bundle loaded in
 * the process, through a global symbol): the agent that decides, the endpoints already decided at
 * a higher level (so a socket is not reported twice), and the markers on requests and clients.
 */
import type { Access } from '../../events/access-event';
import { AgentCore, type AccessRecord } from '../core';

/** On an SDK HttpRequest's headers object: this request was decided by the SDK middleware (never sent as a header). */
export const DECIDED = Symbol.for('warden.agent.decided');
/** On an SDK client: the agent's own client (PutEvents), never captured. */
export const EXEMPT = Symbol.for('warden.agent.exempt');

export interface CaptureState {
  agent: AgentCore | undefined;
  /** `host:port` (lower case) decided and let through by http/fetch/SDK capture; sockets to them are not decided again. */
  covered: Set<string>;
  /** `host:port` never captured (Lambda Runtime API, the agent's own endpoint). */
  exempt: Set<string>;
  /** uninstall functions of the installed hooks, by hook name. */
  hooks: Map<string, () => void>;
  /** `host:port` → the IP address last actually connected to (filled by the socket hook). */
  addresses?: Map<string, string>;
  /** bumped each time `covered` is emptied (see `cover`) */
  coveredEpoch?: number;
  /** bumped each time `exempt` changes through addExempt/clearExempt (see `isExempt`) */
  exemptEpoch?: number;
}

const SLOT = Symbol.for('warden.agent.state');

function sharedState(): CaptureState {
  const g = globalThis as unknown as Record<symbol, CaptureState | undefined>;
  let s = g[SLOT];
  if (!s) {
    s = { agent: undefined, covered: new Set(), exempt: new Set(), hooks: new Map() };
    g[SLOT] = s;
  }
  s.addresses ??= new Map();
  s.coveredEpoch ??= 0;
  s.exemptEpoch ??= 0;
  return s;
}

// Looked up once: the slot's object is never replaced, only its fields change (hooks read it per call).
const STATE = sharedState();

export function state(): CaptureState {
  return STATE;
}

/** Remembers that an endpoint was put in `covered` (and since which emptying of it). */
export interface CoverMark { coveredEpoch?: number }

/**
 * Adds a decided and let-through endpoint to `covered`, once per endpoint rather than once per
 * call: `mark` (the endpoint's cached object) remembers it is there until `covered` is emptied.
 */
export function cover(endpoint: string, mark: CoverMark): void {
  const s = STATE;
  if (mark.coveredEpoch === s.coveredEpoch) return;
  s.covered.add(endpoint);
  mark.coveredEpoch = s.coveredEpoch;
}

/** Empties `covered` (uninstall); every CoverMark then adds its endpoint again. */
export function clearCovered(): void {
  STATE.covered.clear();
  STATE.coveredEpoch = (STATE.coveredEpoch ?? 0) + 1;
}

/** Remembers whether an endpoint is exempt, as of one state of the exempt set. */
export interface ExemptMark { exemptEpoch?: number; exemptSize?: number; exempt?: boolean }

/**
 * Whether `endpoint` is exempt (never captured), looked up in the set only when the set changed
 * since `mark` last saw it (its epoch, and its size: a copy of the agent that changes the set
 * without the epoch still changes its size).
 */
export function isExempt(endpoint: string, mark: ExemptMark): boolean {
  const s = STATE;
  const set = s.exempt;
  if (mark.exemptEpoch === s.exemptEpoch && mark.exemptSize === set.size) return mark.exempt === true;
  const v = set.has(endpoint);
  mark.exempt = v; mark.exemptEpoch = s.exemptEpoch; mark.exemptSize = set.size;
  return v;
}

export function addExempt(endpoint: string): void {
  const s = STATE;
  if (s.exempt.has(endpoint)) return;
  s.exempt.add(endpoint);
  s.exemptEpoch = (s.exemptEpoch ?? 0) + 1;
}

export function clearExempt(): void {
  STATE.exempt.clear();
  STATE.exemptEpoch = (STATE.exemptEpoch ?? 0) + 1;
}

export function endpointKey(host: string, port: number | string): string {
  return `${host.toLowerCase()}:${port}`;
}

/** Strips IPv6 brackets and a trailing dot from a host as the code named it. */
export function normalizeHost(host: string): string {
  if (host.startsWith('[') && host.endsWith(']')) return host.slice(1, -1);
  return host;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
export function isIpLiteral(host: string): boolean {
  return IPV4.test(host) || host.includes(':');
}

/** One endpoint as the hooks see it: the access to observe, its cache key, and `host:port` (lower case). */
export interface Endpoint extends CachedAccess, CoverMark, ExemptMark { readonly endpoint: string; readonly host: string; readonly port: number }

/** An access a hook reuses from call to call, with its key and the record its last `observe` returned. */
export interface CachedAccess { readonly access: Access; readonly key: string; rec?: AccessRecord }

/** Observes a cached access: through the record it got last time while that holds, else a full `observe`. */
export function observeEndpoint(agent: AgentCore, e: CachedAccess): AccessRecord {
  const last = e.rec;
  if (last !== undefined && agent.recount(last)) return last;
  const rec = agent.observe(e.access, e.key);
  e.rec = rec;
  return rec;
}

/**
 * Endpoint accesses (http/tcp), built once per endpoint and reused with their cache key, so the
 * hot path allocates nothing. Bounded: cleared when it grows past `max` distinct endpoints.
 */
export class EndpointAccesses {
  private readonly map = new Map<string, Endpoint>();
  constructor(private readonly kind: 'http' | 'tcp', private readonly max = 10_000) {}

  /** `endpoint` is `endpointKey(host, port)`, `host` already normalized (lower case, no brackets). */
  get(endpoint: string, host: string, port: number): Endpoint {
    let e = this.map.get(endpoint);
    if (e === undefined) {
      if (this.map.size >= this.max) this.map.clear();
      const access: Access = isIpLiteral(host) ? { kind: this.kind, host, address: host, port } : { kind: this.kind, host, port };
      e = { access, key: AgentCore.keyOf(access), endpoint, host, port };
      this.map.set(endpoint, e);
    }
    return e;
  }
}

/**
 * The endpoint an http(s) URL string names, exactly as the WHATWG URL parser (what `fetch` and
 * `http.request` use) reads it, cached by the URL's `scheme://authority` prefix: the parser runs
 * once per distinct prefix, a repeat costs a scan for the end of the authority and a Map lookup.
 * `undefined`: not an http(s) URL with a host (data:, blob:, relative, invalid: the library itself
 * then fails or sends nothing over the network).
 */
export interface UrlEndpoint {
  /** the endpoint, with the scheme's port when the URL names none */
  readonly endpoint: Endpoint;
  /** `hostname` as the parser gives it (lower case, IPv6 without brackets) */
  readonly hostname: string;
  /** the port the URL names, if any */
  readonly port: number | undefined;
}

export class UrlEndpoints {
  private readonly map = new Map<string, UrlEndpoint | null>();
  /** the last prefix answered from the map, and its answer: a URL on the same host (any path) is a `startsWith` */
  private lastPrefix: string | undefined;
  private lastHit: UrlEndpoint | undefined;
  constructor(private readonly accesses: EndpointAccesses, private readonly max = 10_000) {}

  get(url: string): UrlEndpoint | undefined {
    // The same authority as last time: the URL starts with that prefix (which holds no delimiter
    // after its scheme) and a delimiter or the end follows, so the scan below would end there too.
    const lp = this.lastPrefix;
    if (lp !== undefined && url.startsWith(lp)) {
      const n = lp.length;
      if (url.length === n) return this.lastHit;
      const c = url.charCodeAt(n);
      if (c === 47 /* / */ || c === 92 /* \\ */ || c === 63 /* ? */ || c === 35 /* # */) return this.lastHit;
    }
    // Fast path only for a URL starting exactly with "http://" or "https://"; anything else (leading
    // spaces, upper case scheme, tabs in the scheme, ...) goes through the parser on the whole string.
    let from: number;
    if (url.startsWith('http://')) from = 7;
    else if (url.startsWith('https://')) from = 8;
    else if (url.startsWith('data:') || url.startsWith('blob:')) return undefined; // never network (and data: may be large)
    else return this.parse(url) ?? undefined;
    // The authority of a special scheme ends at '/', '\\', '?', '#' or the end (WHATWG "authority state");
    // tabs and newlines inside it are dropped by the parser, which is given the same prefix.
    let end = url.length;
    for (let i = from; i < end; i++) {
      const c = url.charCodeAt(i);
      if (c === 47 /* / */ || c === 92 /* \\ */ || c === 63 /* ? */ || c === 35 /* # */) { end = i; break; }
    }
    // an empty authority ("http:///host", "http://\\host"): the parser skips the extra slashes; a
    // prefix ending in a space or control character: the parser would strip it from the prefix alone
    if (end === from || url.charCodeAt(end - 1) <= 32) return this.parse(url) ?? undefined;
    const prefix = end === url.length ? url : url.slice(0, end);
    let e = this.map.get(prefix);
    if (e === undefined) {
      if (this.map.size >= this.max) this.map.clear();
      e = this.parse(prefix);
      this.map.set(prefix, e);
    }
    if (e !== null) { this.lastPrefix = prefix; this.lastHit = e; return e; }
    // the prefix alone does not parse: let the whole URL decide (the library rejects it, or names a host)
    return this.parse(url) ?? undefined;
  }

  private parse(url: string): UrlEndpoint | null {
    let u: URL;
    try { u = new URL(url); } catch { return null; }
    const https = u.protocol === 'https:';
    if ((!https && u.protocol !== 'http:') || !u.hostname) return null;
    const hostname = normalizeHost(u.hostname);
    const explicit = u.port ? Number(u.port) : undefined;
    const port = explicit ?? (https ? 443 : 80);
    return { endpoint: this.accesses.get(endpointKey(hostname, port), hostname.toLowerCase(), port), hostname, port: explicit };
  }
}

/** The address last connected to for an endpoint (the event's `address`), if a socket saw it. */
export function connectedAddress(host: string | undefined, port: number | undefined): string | undefined {
  if (host === undefined || port === undefined) return undefined;
  return state().addresses?.get(endpointKey(host, port));
}
