/**
 * http/https capture: `request` and `get` of both modules (http.get calls the module's internal
 * request, so each needs its own hook). A blocked request gets no socket at all: it is created
 * with a connection factory that fails with AccessDeniedByPolicy, which the request emits as its
 * 'error' on the next tick, exactly where a connection error would appear. No byte leaves.
 */
import http from 'node:http';
import https from 'node:https';
import { DECIDED, EndpointAccesses, endpointKey, normalizeHost, state } from './state';

const accesses = new EndpointAccesses('http');

type RequestFn = (...args: unknown[]) => http.ClientRequest;
interface Target { host: string; port: number; decided: boolean }

/** Host and port from an URL string without the cost of `new URL` (fast path). */
export function hostPortFromUrl(url: string, defaultPort: number): { host: string; port: number } | undefined {
  const start = url.indexOf('://');
  if (start < 0) return undefined;
  let end = url.length;
  for (let i = start + 3; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) { end = i; break; }
  }
  let authority = url.slice(start + 3, end);
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  let host = authority;
  let port = defaultPort;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest.startsWith(':') && rest.length > 1) port = Number(rest.slice(1));
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0) { host = authority.slice(0, colon); if (colon < authority.length - 1) port = Number(authority.slice(colon + 1)); }
  }
  if (!host || !Number.isInteger(port)) return undefined;
  return { host: host.toLowerCase(), port };
}

function schemeDefaultPort(url: string, fallback: number): number {
  if (url.startsWith('https:') || url.startsWith('wss:')) return 443;
  if (url.startsWith('http:') || url.startsWith('ws:')) return 80;
  return fallback;
}

function targetOf(args: unknown[], defaultPort: number): Target | undefined {
  let a0 = args[0];
  let opts: Record<string, unknown> | undefined;
  let host: string | undefined;
  let port: number | undefined;
  if (typeof a0 === 'string') {
    const t = hostPortFromUrl(a0, schemeDefaultPort(a0, defaultPort));
    if (t) ({ host, port } = t);
    a0 = undefined;
  } else if (a0 instanceof URL) {
    host = normalizeHost(a0.hostname);
    port = a0.port ? Number(a0.port) : schemeDefaultPort(a0.protocol, defaultPort);
    a0 = undefined;
  }
  if (a0 && typeof a0 === 'object') opts = a0 as Record<string, unknown>;
  else if (args[1] && typeof args[1] === 'object') opts = args[1] as Record<string, unknown>;
  if (opts) {
    if (typeof opts.socketPath === 'string') return undefined; // unix socket: not network access
    const h = (opts.hostname ?? opts.host) as unknown;
    if (typeof h === 'string' && h) host = normalizeHost(h).toLowerCase();
    if (opts.port !== undefined && opts.port !== null && opts.port !== '') port = Number(opts.port);
    else if (port === undefined) {
      const agent = opts.agent as { defaultPort?: number } | undefined;
      port = agent?.defaultPort ?? (typeof opts.protocol === 'string' ? schemeDefaultPort(opts.protocol, defaultPort) : defaultPort);
    }
  }
  const headers = opts?.headers as Record<symbol, unknown> | undefined;
  return { host: host ?? 'localhost', port: port ?? defaultPort, decided: !!headers && headers[DECIDED] === true };
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

function hook(original: RequestFn, defaultPort: number): RequestFn {
  const existing = wrappers.get(original);
  if (existing) return existing;
  const wrapped = function request(this: unknown, ...args: unknown[]) {
    const s = state();
    const agent = s.agent;
    if (!agent) return original.apply(this, args);
    const t = targetOf(args, defaultPort);
    if (!t || t.decided) return original.apply(this, args);
    const key = endpointKey(t.host, t.port);
    if (s.exempt.has(key)) return original.apply(this, args);
    const e = accesses.get(key, t.host, t.port);
    const rec = agent.observe(e.access, e.key);
    if (rec.blocked) return blockedCall(original, this, args, agent.deniedError(rec));
    s.covered.add(key);
    return original.apply(this, args);
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
