import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * Local stand-ins for the external hosts simulated functions call (api.stripe.com, a paste site,
 * AWS endpoints, …), so their code makes REAL outbound calls that never leave 127.0.0.1.
 *
 * How names reach 127.0.0.1 (see README.md):
 * - `agent()` is an http.Agent/https.Agent whose connections all go to the local server, whatever
 *   the host and port in the request: code keeps calling `https://api.stripe.com/…` on port 443
 *   (so capture sees exactly what production would), only the socket is local and plain TCP.
 *   The AWS SDK takes it as `requestHandler: new NodeHttpHandler({ httpsAgent })`.
 * - `installFetchDispatcher()` does the same for the global `fetch` (Node's undici): its global
 *   dispatcher is swapped for one whose connections go to the stand-ins, so `fetch('https://host/…')`
 *   keeps its URL, host and port 443 too.
 * - `installLookup()` makes `dns.lookup` answer 127.0.0.1 for the stand-in names and refuse every
 *   other name with ENOTFOUND: the catch-all, so nothing reaches the real network.
 */
export class StandInError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StandInError';
  }
}

export interface StandInResponse {
  status: number;
  body: string;
  contentType: string;
}

/** Answers one request for a host that has no fixed response (e.g. an AWS endpoint served by a handler). */
export type StandInHandler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void | Promise<void>;

export interface StandInRequest {
  host: string;
  method: string;
  path: string;
  bytes: number;
}

export interface StandInHosts {
  readonly port: number;
  /** requests served, in order */
  readonly requests: StandInRequest[];
  /** an https.Agent whose connections to stand-in names go to the local stand-ins (plain TCP) */
  agent(): https.Agent;
  /** the same for plain-http URLs */
  httpAgent(): http.Agent;
  /** `127.0.0.1:<port>` of every local listener behind the stand-ins (what the agent should not decide again at socket level) */
  localEndpoints(): string[];
  /** the URL to use with code that resolves names itself: the same URL once `installFetchDispatcher` ran, else the stand-in's port over plain http */
  urlFor(url: string): string;
  /** makes http.globalAgent and https.globalAgent the stand-in agent (code that passes no agent) until the returned function is called */
  installGlobalAgents(): () => void;
  /** routes global fetch's connections to the stand-ins until the returned function is called */
  installFetchDispatcher(): Promise<() => void>;
  /** routes dns.lookup for the stand-in names to 127.0.0.1 until the returned function is called */
  installLookup(): () => void;
  /** a `lookup` function with the same mapping, for APIs that take one */
  lookup: typeof dns.lookup;
  /** true for a name the stand-ins answer */
  knows(host: string): boolean;
  close(): Promise<void>;
}

export interface StandInOptions {
  /** fixed responses by host name (case-insensitive) */
  hosts: Record<string, StandInResponse>;
  /** dynamic handlers by host name, e.g. an AWS endpoint */
  handlers?: Record<string, StandInHandler>;
  /** host names whose connections go to another local port (e.g. dynamodb.us-east-1.amazonaws.com → dynalite) */
  forward?: Record<string, number>;
}

/** where Node's fetch keeps its global dispatcher (undici's interop slot) */
const UNDICI_DISPATCHER = Symbol.for('undici.globalDispatcher.1');
const WARMUP_HOST = 'warmup.stand-in.local';

const norm = (h: string) => h.toLowerCase().replace(/\.$/, '').replace(/:\d+$/, '');

export async function startStandInHosts(opts: StandInOptions): Promise<StandInHosts> {
  const fixed = new Map(Object.entries(opts.hosts).map(([k, v]) => [norm(k), v]));
  const dynamic = new Map(Object.entries(opts.handlers ?? {}).map(([k, v]) => [norm(k), v]));
  const requests: StandInRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const host = norm(req.headers.host ?? '');
      if (host === WARMUP_HOST) {
        res.writeHead(204).end();
        return;
      }
      const body = Buffer.concat(chunks);
      requests.push({ host, method: req.method ?? 'GET', path: req.url ?? '/', bytes: body.length });
      const handler = dynamic.get(host);
      if (handler) {
        Promise.resolve(handler(req, body, res)).catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: `stand-in for ${host} failed: ${(err as Error).message}` }));
        });
        return;
      }
      const r = fixed.get(host);
      if (!r) {
        res.writeHead(421, { 'content-type': 'text/plain' });
        res.end(`no stand-in for host "${host}"; declare it under "hosts" in the scenario`);
        return;
      }
      res.writeHead(r.status, { 'content-type': r.contentType, 'x-warden-simulated': 'true' });
      res.end(r.body);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const forward = new Map(Object.entries(opts.forward ?? {}).map(([k, v]) => [norm(k), v]));
  const knows = (h: string) => fixed.has(norm(h)) || dynamic.has(norm(h)) || forward.has(norm(h));

  const lookup = ((hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (err: NodeJS.ErrnoException | null, address?: unknown, family?: number) => void;
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    if (net.isIP(hostname) !== 0) {
      const family = net.isIP(hostname);
      process.nextTick(() => (all ? cb(null, [{ address: hostname, family }]) : cb(null, hostname, family)));
      return;
    }
    if (!knows(hostname) && norm(hostname) !== 'localhost') {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (simulation: only stand-in hosts resolve; declare it under "hosts")`), { code: 'ENOTFOUND', hostname }) as NodeJS.ErrnoException;
      process.nextTick(() => cb(err));
      return;
    }
    process.nextTick(() => (all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)));
  }) as unknown as typeof dns.lookup;

  let fetchRouted = false;
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  // the request keeps its host, port and protocol; for a stand-in name the socket is local plain TCP,
  // anything else (Warden's own local endpoints) connects as usual
  const route = <A extends http.Agent>(agent: A): A => {
    const original = agent.createConnection.bind(agent) as (o: object, cb?: unknown) => net.Socket;
    (agent as unknown as { createConnection: (o: { host?: string; servername?: string }, cb?: unknown) => net.Socket }).createConnection = (o, cb) => {
      const name = norm(o.host || o.servername || '');
      return knows(name) ? net.connect({ port: forward.get(name) ?? port, host: '127.0.0.1' }) : original(o, cb);
    };
    return agent;
  };
  const makeAgent = (): https.Agent => route(new https.Agent({ keepAlive: false }));
  const makeHttpAgent = (): http.Agent => route(new http.Agent({ keepAlive: false }));

  return {
    port,
    requests,
    lookup,
    knows,
    agent: makeAgent,
    httpAgent: makeHttpAgent,
    localEndpoints: () => [`127.0.0.1:${port}`, ...[...new Set(forward.values())].map((p) => `127.0.0.1:${p}`)],
    urlFor(url) {
      const u = new URL(url);
      if (!knows(u.hostname)) throw new StandInError(`no stand-in for host "${u.hostname}"; declare it under "hosts"`);
      if (fetchRouted) return url;
      return `http://${u.hostname}:${forward.get(norm(u.hostname)) ?? port}${u.pathname}${u.search}`;
    },
    installGlobalAgents() {
      const prevHttp = http.globalAgent;
      const prevHttps = https.globalAgent;
      const agent = makeAgent();
      const plain = makeHttpAgent();
      http.globalAgent = plain;
      https.globalAgent = agent;
      return () => {
        http.globalAgent = prevHttp;
        https.globalAgent = prevHttps;
        agent.destroy();
        plain.destroy();
      };
    },
    async installFetchDispatcher() {
      const g = globalThis as unknown as Record<symbol, unknown>;
      // Node's fetch creates its undici Agent on first use; its class gives an Agent with our own connect
      if (!g[UNDICI_DISPATCHER]) await fetch(`http://127.0.0.1:${port}/`, { headers: { host: WARMUP_HOST } }).then((r) => r.arrayBuffer()).catch(() => undefined);
      const previous = g[UNDICI_DISPATCHER] as { constructor?: new (o: unknown) => unknown } | undefined;
      if (!previous?.constructor) return () => undefined;
      type Cb = (err: Error | null, socket: net.Socket | null) => void;
      g[UNDICI_DISPATCHER] = new previous.constructor({
        connect: (o: { hostname?: string }, cb: Cb) => {
          const sock = net.connect({ port: forward.get(norm(o.hostname ?? '')) ?? port, host: '127.0.0.1' });
          sock.once('connect', () => cb(null, sock));
          sock.once('error', (err) => cb(err, null));
          return sock;
        },
      });
      fetchRouted = true;
      return () => {
        const mine = g[UNDICI_DISPATCHER] as { close?: () => Promise<void> };
        g[UNDICI_DISPATCHER] = previous;
        fetchRouted = false;
        void mine.close?.().catch(() => undefined);
      };
    },
    installLookup() {
      const original = dns.lookup;
      (dns as { lookup: typeof dns.lookup }).lookup = lookup;
      return () => {
        (dns as { lookup: typeof dns.lookup }).lookup = original;
      };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
