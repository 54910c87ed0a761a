import { execFileSync } from 'node:child_process';
import dns from 'node:dns';
import { join } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { startStandInHosts, type StandInHosts } from '../../engine/local/stand-in-hosts';

let s: StandInHosts;
let other: http.Server;
let otherPort: number;

beforeAll(async () => {
  other = http.createServer((req, res) => res.end(`forwarded ${req.headers.host}`));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  otherPort = (other.address() as AddressInfo).port;
  s = await startStandInHosts({
    hosts: { 'api.stripe.com': { status: 201, body: '{"id":"ch_1"}', contentType: 'application/json' } },
    handlers: { 'sts.us-east-1.amazonaws.com': (_req, body, res) => { res.end(`echo ${body.toString()}`); } },
    forward: { 'dynamodb.us-east-1.amazonaws.com': otherPort },
  });
});
afterAll(async () => {
  await s.close();
  await new Promise<void>((r) => other.close(() => r()));
});

function request(url: string, body = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', agent: s.agent() }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('stand-in hosts', () => {
  it('answers https requests to a declared host on port 443 over a local socket, keeping host and path', async () => {
    await expect(request('https://api.stripe.com/v1/charges', 'amount=1')).resolves.toEqual({ status: 201, text: '{"id":"ch_1"}' });
    expect(s.requests.at(-1)).toEqual({ host: 'api.stripe.com', method: 'POST', path: '/v1/charges', bytes: 8 });
  });

  it('serves dynamic hosts and forwards others to their own local port', async () => {
    await expect(request('https://sts.us-east-1.amazonaws.com/', 'Action=GetCallerIdentity')).resolves.toEqual({ status: 200, text: 'echo Action=GetCallerIdentity' });
    await expect(request('https://dynamodb.us-east-1.amazonaws.com/')).resolves.toEqual({ status: 200, text: 'forwarded dynamodb.us-east-1.amazonaws.com' });
  });

  it('never routes an undeclared name to the stand-ins, and answers 421 for a Host it does not serve', async () => {
    const undo = s.installLookup();
    try {
      await expect(request('https://evil.example.org/x')).rejects.toThrow(/ENOTFOUND evil\.example\.org/);
    } finally {
      undo();
    }
    const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = https.request('https://api.stripe.com/x', { agent: s.agent(), headers: { host: 'evil.example.org' } }, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(r.status).toBe(421);
    expect(r.text).toContain('no stand-in for host "evil.example.org"');
  });

  it('routes global fetch to the stand-ins while installed, URL unchanged (plain Node process)', () => {
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures/fetch-dispatcher.ts')], { encoding: 'utf8', timeout: 30_000 })) as Record<string, unknown>;
    expect(out).toMatchObject({ url: 'https://api.stripe.com/v1/x?y=1', status: 201, text: 'ok', request: { host: 'api.stripe.com', method: 'POST', path: '/v1/x?y=1', bytes: 3 } });
    expect(out.after).toBe(`http://api.stripe.com:${String(out.port)}/v1/x`);
  });

  it('resolves only stand-in names while the lookup is installed', async () => {
    const undo = s.installLookup();
    try {
      const addr = await new Promise<string>((resolve, reject) => dns.lookup('api.stripe.com', (err, a) => (err ? reject(err) : resolve(a))));
      expect(addr).toBe('127.0.0.1');
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => dns.lookup('example.org', (e) => resolve(e)));
      expect(err?.code).toBe('ENOTFOUND');
    } finally {
      undo();
    }
  });

  it('refuses urlFor an undeclared host', () => {
    expect(() => s.urlFor('https://nope.example/')).toThrow('no stand-in for host "nope.example"');
  });
});
