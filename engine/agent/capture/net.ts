/**
 * The catch-all: `net.Socket.prototype.connect` (tls.connect and every client library end there).
 * Connections to endpoints already decided by the http/fetch/SDK capture are not decided again; any
 * other connection is a `tcp` access. A blocked connect never starts: the socket is destroyed with
 * AccessDeniedByPolicy on the next tick, where a connection error would appear.
 */
import net from 'node:net';
import { EndpointAccesses, endpointKey, isIpLiteral, normalizeHost, state, type CaptureState } from './state';

const accesses = new EndpointAccesses('tcp');

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
    // the address actually connected to, for the event (once per connection, not per call)
    if (!isIpLiteral(t.host)) this.once('connect', () => { const a = this.remoteAddress; if (a) rememberAddress(s, key, a); });
    if (s.covered.has(key)) return original.apply(this, args);
    const e = accesses.get(key, t.host, t.port);
    const rec = agent.observe(e.access, e.key);
    if (rec.blocked) {
      const err = agent.deniedError(rec);
      process.nextTick(() => this.destroy(err));
      return this;
    }
    return original.apply(this, args);
  };
  wrappers.set(original, connect);
  return connect;
}
