/** Local servers the capture tests talk to (nothing beyond localhost). */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';

export const TLS = { key: readFileSync(join(__dirname, 'fixtures/localhost.key')), cert: readFileSync(join(__dirname, 'fixtures/localhost.crt')) };

export interface LocalServer { port: number; hits: () => number; close: () => Promise<void> }

function track(server: net.Server, hits: () => number): Promise<LocalServer> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: (server.address() as net.AddressInfo).port,
    hits,
    close: () => new Promise<void>((r) => { (server as http.Server).closeAllConnections?.(); server.close(() => r()); }),
  })));
}

/** Answers every request with `{}` (enough for the AWS JSON protocols) and counts requests. */
export function httpServer(): Promise<LocalServer> {
  let n = 0;
  const s = http.createServer((req, res) => { n++; req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}')); });
  return track(s, () => n);
}

export function httpsServer(): Promise<LocalServer> {
  let n = 0;
  const s = https.createServer(TLS, (req, res) => { n++; req.resume(); req.on('end', () => res.end('{}')); });
  return track(s, () => n);
}

/** Counts accepted TCP connections and echoes. */
export function tcpServer(): Promise<LocalServer> {
  let n = 0;
  const s = net.createServer((sock) => { n++; sock.on('data', (d) => sock.write(d)); sock.on('error', () => undefined); });
  return track(s, () => n);
}

export function get(mod: typeof http | typeof https, url: string, opts: https.RequestOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    mod.get(url, opts, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

export function request(mod: typeof http | typeof https, opts: https.RequestOptions, body?: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = mod.request(opts, (res) => { res.resume(); res.on('end', () => resolve({ status: res.statusCode ?? 0 })); });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}
