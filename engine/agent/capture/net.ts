/**
 * The catch-all: `net.Socket.prototype.connect` (tls.connect and every client library end there).
 * Connections to endpoints already decided by the http/fetch/SDK capture are not decided again; any
 * other connection is a `tcp` access. A blocked connect never starts: the socket is destroyed with
 * AccessDeniedByPolicy on the next tick, where a connection error would appear.
 *
 * Every connection to a host name (decided already or not) also gets a `lookup` wrapper: the
 * addresses the name resolved to are checked against the deny rules before the socket connects
 * (a name resolving to 169.254.169.254 meets the metadata deny). In block mode a denied address is
 * dropped from the answer, and when none is left the lookup fails with AccessDeniedByPolicy; in
 * every mode it is reported as a `tcp` access carrying the host and the address.
 */
import type dns from 'node:dns';
import { createRequire } from 'node:module';
// `import x = require()`: the module object itself (esbuild's default-import interop would copy
// every property of it at cold start)
// eslint-disable-next-line @typescript-eslint/no-require-imports
import net = require('node:net');
import type { AgentCore } from '../core';
import { EndpointAccesses, endpointKey, observeEndpoint, isIpLiteral, normalizeHost, state, type CaptureState } from './state';

const accesses = new EndpointAccesses('tcp');

let dnsModule: typeof dns | undefined;
/**
 * `dns.lookup`, as net would call it, read at each connection. node:dns is loaded on the first
 * connection to a name, not at cold start (net itself loads it only then).
 */
const defaultLookup: Lookup = (...args) => {
  // process.getBuiltinModule is Node >= 20.16
  dnsModule ??= typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:dns') : (createRequire(__filename)('node:dns') as typeof dns);
  return (dnsModule.lookup as unknown as Lookup)(...args);
};

type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket;

function targetOf(args: unknown[]): { host: string; port: number } | undefined {
  let a0 = args[0];
  let a1 = args[1];
  if (Array.isArray(a0)) { a1 = a0[1]; a0 = a0[0]; } // net.connect passes its normalized [options, cb]
  if (a0 && typeof a0 === 'object') {
    const o = a0 as { path?: unknown; host?: unknown; port?: unknown };
    if (typeof o.path === 'string') return undefined; // IPC
    const port = Number(o.port);
    if (!Number.isInteger(port)) return undefined;
    return { host: normalizeHost(typeof o.host === 'string' && o.host ? o.host : 'localhost').toLowerCase(), port };
  }
  if (typeof a0 === 'number' || (typeof a0 === 'string' && /^\d+$/.test(a0))) {
    return { host: normalizeHost(typeof a1 === 'string' && a1 ? a1 : 'localhost').toLowerCase(), port: Number(a0) };
  }
  return undefined; // a string path: IPC
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | dns.LookupAddress[], family?: number) => void;
type Lookup = (hostname: string, options: unknown, callback: LookupCallback) => void;

/** The AccessDeniedByPolicy for a resolved address, or undefined when it may be connected to. */
function addressDenied(agent: AgentCore, host: string, address: string, port: number): Error | undefined {
  if (!agent.deniesAddress(address, port)) return undefined; // the common case: one cached lookup
  const rec = agent.observe({ kind: 'tcp', host, address, port });
  return rec.blocked ? agent.deniedError(rec) : undefined;
}

/** Wraps the lookup a connection would use (the caller's own, or dns.lookup) with the address check. */
export function guardLookup(original: Lookup, host: string, port: number): Lookup {
  return function lookup(this: unknown, hostname: string, options: unknown, callback: LookupCallback): void {
    if (typeof options === 'function') { callback = options as LookupCallback; options = {}; }
    original.call(this, hostname, options, (err, address, family) => {
      const agent = state().agent;
      if (err || !agent || address === undefined) { callback(err, address, family); return; }
      if (typeof address === 'string') {
        const denied = addressDenied(agent, host, address, port);
        if (denied) callback(denied); else callback(null, address, family);
        return;
      }
      if (!Array.isArray(address)) { callback(null, address, family); return; }
      // `all: true` (Happy Eyeballs): drop every denied address; fail only when none is left
      let kept: dns.LookupAddress[] | undefined;
      let firstDenial: Error | undefined;
      for (let i = 0; i < address.length; i++) {
        const a = address[i]!;
        const denied = addressDenied(agent, host, a.address, port);
        if (denied) { firstDenial ??= denied; kept ??= address.slice(0, i); } else if (kept) kept.push(a);
      }
      if (!kept) callback(null, address, family);
      else if (kept.length === 0) callback(firstDenial!);
      else callback(null, kept, family);
    });
  };
}

/** The same connect arguments as one options object whose `lookup` is guarded. */
function withGuardedLookup(args: unknown[], host: string, port: number): unknown[] {
  let a0 = args[0];
  let cb: unknown = args[args.length - 1];
  if (Array.isArray(a0)) { cb = a0[1]; a0 = a0[0]; } // net.connect passes its normalized [options, cb]
  const options: Record<string, unknown> = a0 && typeof a0 === 'object'
    ? { ...(a0 as Record<string, unknown>) }
    : { port: args[0], ...(typeof args[1] === 'string' ? { host: args[1] } : {}) };
  if (options.lookup !== undefined && typeof options.lookup !== 'function') return args; // net rejects it itself
  options.lookup = guardLookup((options.lookup ?? defaultLookup) as Lookup, host, port);
  return [options, typeof cb === 'function' ? cb : null];
}

function rememberAddress(s: CaptureState, key: string, address: string): void {
  const m = s.addresses!;
  if (m.size >= 10_000 && !m.has(key)) m.clear();
  m.set(key, address);
}

// One wrapper per original connect, reused across install/uninstall: a stable function stays optimized.
const wrappers = new WeakMap<Connect, Connect>();

export function installNetCapture(): () => void {
  const proto = net.Socket.prototype as unknown as { connect: Connect };
  const original = proto.connect;
  const connect = wrappers.get(original) ?? makeConnect(original);
  proto.connect = connect;
  return () => { if (proto.connect === connect) proto.connect = original; };
}

function makeConnect(original: Connect): Connect {
  const connect: Connect = function connect(this: net.Socket, ...args: unknown[]) {
    const s = state();
    const agent = s.agent;
    if (!agent) return original.apply(this, args);
    const t = targetOf(args);
    if (!t) return original.apply(this, args);
    const key = endpointKey(t.host, t.port);
    if (s.exempt.has(key)) return original.apply(this, args);
    const named = !isIpLiteral(t.host);
    if (named) {
      // the address actually connected to, for the event (once per connection, not per call)
      // (a denied address, connected to in monitor mode, is reported by its own deny event only: not
      // attached to the name's event, or the engine would count the same violation twice)
      this.once('connect', () => { const a = this.remoteAddress; if (a && !agent.deniesAddress(a, t.port)) rememberAddress(s, key, a); });
    }
    if (!s.covered.has(key)) {
      const e = accesses.get(key, t.host, t.port);
      const rec = observeEndpoint(agent, e);
      if (rec.blocked) {
        const err = agent.deniedError(rec);
        process.nextTick(() => this.destroy(err));
        return this;
      }
    }
    // a name is checked again on the addresses it resolves to, before the socket connects
    return original.apply(this, named ? withGuardedLookup(args, t.host, t.port) : args);
  };
  wrappers.set(original, connect);
  return connect;
}
