/**
 * http/https capture: `request` and `get` of both modules (http.get calls the module's internal
 * request, so each needs its own hook). A blocked request gets no socket at all: it is created
 * with a connection factory that fails with AccessDeniedByPolicy, which the request emits as its
 * 'error' on the next tick, exactly where a connection error would appear. No byte leaves.
 */
// `import x = require()`: the module objects themselves (esbuild's default-import interop would
// copy every property of them at cold start)
// eslint-disable-next-line @typescript-eslint/no-require-imports
import http = require('node:http');
// eslint-disable-next-line @typescript-eslint/no-require-imports
import https = require('node:https');
import { DECIDED, EndpointAccesses, cover, isExempt, observeEndpoint, UrlEndpoints, endpointKey, normalizeHost, state, type Endpoint } from './state';

const accesses = new EndpointAccesses('http');
/** http(s) URL strings → endpoint (shared with the fetch capture). */
export const urlEndpoints = new UrlEndpoints(accesses);
const S = state();

type RequestFn = (...args: unknown[]) => http.ClientRequest;

/**
 * The endpoint of a `request`/`get` call, read exactly as `ClientRequest` reads its arguments: an
 * URL (string or object) gives `hostname` and an explicit `port`; the options' own fields are
 * assigned over them; then host = hostname || host || 'localhost' and port = port || defaultPort ||
 * the agent's default port || 80. `undefined`: nothing to decide (a unix socket, a request the SDK
 * capture already decided, an URL the request itself rejects).
 */
export function endpointOf(args: unknown[], moduleDefaultPort: number): Endpoint | undefined {
  const a0 = args[0];
  let fromUrl: Endpoint | undefined;
  let hostname: unknown;
  let port: unknown;
  let opts: Record<string, unknown> | undefined;
  if (typeof a0 === 'string') {
    const u = urlEndpoints.get(a0);
    if (u === undefined) return undefined; // ClientRequest throws on an invalid or non-http URL
    const a1 = args[1];
    // the common case, one cached lookup (without options the port is the URL's or the scheme's)
    if (a1 === null || typeof a1 !== 'object') return u.endpoint;
    opts = a1 as Record<string, unknown>;
    fromUrl = u.endpoint; hostname = u.hostname; port = u.port;
  } else if (a0 instanceof URL) {
    hostname = normalizeHost(a0.hostname);
    port = a0.port ? Number(a0.port) : undefined;
    const a1 = args[1];
    if (a1 !== null && typeof a1 === 'object') opts = a1 as Record<string, unknown>;
  } else if (a0 !== null && typeof a0 === 'object') {
    opts = a0 as Record<string, unknown>;
  }
  let host: unknown;
  let defaultPort: unknown;
  let agentDefaultPort: unknown = moduleDefaultPort;
  if (opts) {
    // a request the SDK capture decided (and marked) already
    if (decidedBySdk(opts)) return undefined;
    // ClientRequest copies the options' own enumerable fields (Object.assign) over the URL's, so
    // exactly those count (one set to undefined still overrides); one pass over them.
    let agent: unknown;
    let createConnection: unknown;
    let defaultAgent: unknown;
    /** an own field that can change the host or port the URL names */
    let named = false;
    /** an own field that can change the port when the URL names none */
    let porting = false;
    const keys = Object.keys(opts);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      switch (k) {
        case 'socketPath': if (typeof opts.socketPath === 'string') return undefined; break; // unix socket: not network access
        case 'hostname': hostname = opts.hostname; named = true; break;
        case 'port': port = opts.port; named = true; break;
        case 'host': host = opts.host; named = true; break;
        case 'defaultPort': defaultPort = opts.defaultPort; porting = true; break;
        case 'agent': agent = opts.agent; porting = true; break;
        case '_defaultAgent': defaultAgent = opts._defaultAgent; porting = true; break;
        case 'createConnection': createConnection = opts.createConnection; porting = true; break;
      }
    }
    // the common case: options that leave the URL's endpoint as it is (an explicit port wins over
    // every default; without one, the scheme's port holds unless a default-port field is given —
    // a scheme this module does not serve makes the request throw before connecting)
    if (fromUrl !== undefined && !named && (!porting || port !== undefined)) return fromUrl;
    if (agent !== undefined && agent !== null && agent !== false) agentDefaultPort = (agent as { defaultPort?: unknown }).defaultPort;
    else if (agent !== false && typeof createConnection === 'function') agentDefaultPort = undefined;
    // http.request uses a caller's `_defaultAgent` when no agent is given (https.request sets its own)
    else if (agent !== false && moduleDefaultPort === 80 && defaultAgent) agentDefaultPort = (defaultAgent as { defaultPort?: unknown }).defaultPort;
  }
  const h = normalizeHost(String(hostname || host || 'localhost')).toLowerCase();
  const p = Number(port || defaultPort || agentDefaultPort || 80);
  if (fromUrl !== undefined && h === fromUrl.host && p === fromUrl.port) return fromUrl;
  return accesses.get(endpointKey(h, p), h, p);
}

/** Whether request options carry the SDK capture's mark on their headers (that request was decided at the SDK's request handler). */
function decidedBySdk(opts: object): boolean {
  const hd = (opts as { headers?: Record<symbol, unknown> | null }).headers;
  return hd !== undefined && hd !== null && hd[DECIDED] === true;
}

/** Same call, but with a connection factory that fails: the request errors with `err`, sends nothing. */
function blockedCall(original: RequestFn, self: unknown, args: unknown[], err: Error): http.ClientRequest {
  const createConnection = (_o: unknown, cb: (e: Error) => void) => { cb(err); return undefined; };
  const override = { agent: undefined, createConnection };
  const a = [...args];
  if (typeof a[0] === 'string' || a[0] instanceof URL) {
    if (a[1] && typeof a[1] === 'object') a[1] = { ...(a[1] as object), ...override };
    else a.splice(1, 0, override);
  } else {
    a[0] = { ...((a[0] as object) ?? {}), ...override };
  }
  return original.apply(self, a);
}

// One wrapper per original function, reused across install/uninstall: stable functions stay optimized.
const wrappers = new WeakMap<RequestFn, RequestFn>();

/**
 * Decides one call: `undefined` lets it through unchanged, an error blocks it. Kept out of the
 * wrapper, which only forwards: with the agent off (or the access allowed) the caller pays one
 * check and one call.
 */
function decide(args: unknown[], defaultPort: number): Error | undefined {
  const agent = S.agent;
  if (agent === undefined) return undefined;
  const e = endpointOf(args, defaultPort);
  if (e === undefined || isExempt(e.endpoint, e)) return undefined;
  const rec = observeEndpoint(agent, e);
  if (rec.blocked) return agent.deniedError(rec);
  cover(e.endpoint, e);
  return undefined;
}

function hook(original: RequestFn, defaultPort: number): RequestFn {
  const existing = wrappers.get(original);
  if (existing) return existing;
  const wrapped = function request(this: unknown, ...args: unknown[]) {
    // the SDK's own requests (options object first, marked by the SDK capture) pass at once
    const a0 = args[0];
    if (typeof a0 === 'object' && a0 !== null && decidedBySdk(a0)) return original.apply(this, args);
    const denied = S.agent === undefined ? undefined : decide(args, defaultPort);
    return denied === undefined ? original.apply(this, args) : blockedCall(original, this, args, denied);
  };
  wrappers.set(original, wrapped);
  return wrapped;
}

export function installHttpCapture(): () => void {
  const mods: Array<[typeof http | typeof https, number]> = [[http, 80], [https, 443]];
  const saved: Array<() => void> = [];
  for (const [mod, port] of mods) {
    const m = mod as unknown as { request: RequestFn; get: RequestFn };
    const origRequest = m.request;
    const origGet = m.get;
    m.request = hook(origRequest, port);
    m.get = hook(origGet, port);
    saved.push(() => { m.request = origRequest; m.get = origGet; });
  }
  return () => { for (const f of saved) f(); };
}
