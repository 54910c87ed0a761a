/**
 * The endpoint the http/fetch hooks decide must be the one the library actually connects to:
 * URL strings are checked against the WHATWG parser (what fetch and http.request use), and
 * request arguments against what `ClientRequest` itself hands to its agent. A mismatch would let
 * a call be decided on one host and sent to another.
 */
import http from 'node:http';
import https from 'node:https';
import fc from 'fast-check';
import { endpointOf } from '../../engine/agent/capture/http';
import { DECIDED, EndpointAccesses, UrlEndpoints, normalizeHost } from '../../engine/agent/capture/state';

/** host:port as the WHATWG parser reads an http(s) URL, or undefined. */
function whatwg(url: string): string | undefined {
  let u: URL;
  try { u = new URL(url); } catch { return undefined; }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  if (!u.hostname) return undefined;
  return `${normalizeHost(u.hostname)}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
}

const ours = (urls: UrlEndpoints, url: string) => urls.get(url)?.endpoint.endpoint;

describe('UrlEndpoints: the host and port the WHATWG parser reads', () => {
  const tricky = [
    'http://127.0.0.1:8080/x', 'https://a.example', 'http://A.Example:0080/p?q#f',
    'http:///evil.example/x', 'http://\\evil.example', 'http://evil.example\\@good.example/',
    'http://good.example/@evil.example', 'http://u:p@evil.example:81/', 'http://good.example#@evil.example',
    'http://good.example?@evil.example', 'http://%65vil.example/', 'http://0xa9fea9fe/', 'http://2852039166/',
    'http://169.254.169.254.:80/', 'http://ev\til.example/', 'http://ev\nil.example/', 'HTTP://EVIL.EXAMPLE/',
    ' http://evil.example', 'http://evil.example ', 'http://[::1]:99/', 'http://[::ffff:169.254.169.254]/',
    'http://', 'http://a b/', 'http://example.com:99999/', 'data:text/plain,hi', 'blob:http://x/y', '/relative',
    'ftp://example.com/', 'http:evil.example/', 'http:\\\\evil.example\\x', 'https://xn--nxasmq6b.example/', 'http://ÉXAMPLE.com/',
  ];
  it.each(tricky)('%j', (url) => {
    const urls = new UrlEndpoints(new EndpointAccesses('http'));
    expect(ours(urls, url)).toBe(whatwg(url));
    expect(ours(urls, url)).toBe(whatwg(url)); // the cached answer too
  });

  it('any URL made of the characters that matter: same endpoint as the parser, cached or not', () => {
    const urls = new UrlEndpoints(new EndpointAccesses('http'));
    const piece = fc.constantFrom('a', 'B', 'example', '.', ':', '80', '8080', '@', '/', '\\', '?', '#', '%2e', '%40', '[', ']', '::1', '\t', ' ', '127.0.0.1', '0x7f', 'evil', 'u:p@');
    const url = fc.tuple(fc.constantFrom('http://', 'https://', 'http:', 'HTTP://', 'http:/', 'https:///'), fc.array(piece, { maxLength: 8 }))
      .map(([scheme, parts]) => scheme + parts.join(''));
    fc.assert(fc.property(url, (u) => {
      expect(ours(urls, u)).toBe(whatwg(u));
      expect(ours(urls, u)).toBe(whatwg(u));
    }), { numRuns: 3000 });
  });

  it('the last host remembered: only a URL whose authority ends where the remembered one ends reuses it', () => {
    const urls = new UrlEndpoints(new EndpointAccesses('http'));
    const seq = ['http://a.example/x', 'http://a.example.evil/x', 'http://a.example/y', 'http://a.example@evil.example/', 'http://a.example/z',
      'http://a.example:81/', 'http://a.example', 'http://a.example?q', 'http://a.example#f', 'http://a.example\\evil', 'http://a.examplex/', 'https://a.example/', 'http://a.example%2eevil/'];
    for (const u of seq) expect(ours(urls, u)).toBe(whatwg(u));
  });

  it('a URL seen again costs no parse: the same endpoint object per prefix', () => {
    const urls = new UrlEndpoints(new EndpointAccesses('http'));
    const a = urls.get('http://h.example:81/a?x=1')!;
    expect(urls.get('http://h.example:81/b')!.endpoint).toBe(a.endpoint);
    expect(urls.get('http://h.example:81')!.endpoint).toBe(a.endpoint);
    expect(a.endpoint.access).toEqual({ kind: 'http', host: 'h.example', port: 81 });
  });
});

describe('endpointOf: the host and port ClientRequest connects to', () => {
  /** What ClientRequest gives its agent (or its createConnection): the host and port it will connect to. */
  function actual(mod: typeof http | typeof https, args: unknown[]): string | undefined {
    let seen: { host?: unknown; port?: unknown } | undefined;
    const capture = (o: { host?: unknown; port?: unknown }) => { seen = { host: o.host, port: o.port }; };
    // every http/https Agent (the global ones, and the one `agent: false` makes) hands requests over here
    const proto = http.Agent.prototype as unknown as { addRequest: (req: unknown, o: object) => void };
    const saved = proto.addRequest;
    proto.addRequest = (_req, o) => capture(o);
    try {
      const req = (mod.request as (...a: unknown[]) => http.ClientRequest)(...args);
      req.on('error', () => undefined);
      req.destroy();
    } catch {
      return undefined; // the call itself throws: nothing is sent
    } finally {
      proto.addRequest = saved;
    }
    if (!seen) return undefined;
    return `${normalizeHost(String(seen.host)).toLowerCase()}:${Number(seen.port)}`;
  }

  const fakeAgent = (protocol: string, defaultPort: number | undefined) => ({
    protocol, defaultPort, addRequest: (_req: unknown, o: { host?: unknown; port?: unknown }) => { last = `${normalizeHost(String(o.host)).toLowerCase()}:${Number(o.port)}`; },
  });
  let last: string | undefined;

  function check(mod: typeof http | typeof https, modulePort: number, args: unknown[]): void {
    last = undefined;
    let want = actual(mod, args);
    want ??= last; // a custom agent received the request
    const got = endpointOf(args, modulePort);
    if (want === undefined) return; // the request throws or never connects: whatever we decided, nothing is sent
    expect(got?.endpoint).toBe(want);
  }

  it('string URL, URL object, options, and their combinations', () => {
    const protocol = { http: 'http:', https: 'https:' };
    const host = fc.constantFrom('a.example', 'B.Example', '127.0.0.1', '[::1]', '::1', '', undefined, 5 as unknown as string);
    const port = fc.constantFrom(undefined, 81, '82', '', 0, null);
    const options = fc.record({
      hostname: host, host, port, defaultPort: fc.constantFrom(undefined, 90, 0),
      agent: fc.constantFrom('none', 'false', 'null', 'custom', 'custom-noport'),
      createConnection: fc.boolean(),
    }, { requiredKeys: [] });
    const urlHost = fc.constantFrom('u.example', 'U.EXAMPLE', '127.0.0.2', '[::2]');
    const urlPort = fc.constantFrom('', ':83', ':80', ':443');
    const args = fc.tuple(fc.constantFrom('http', 'https') as fc.Arbitrary<'http' | 'https'>, fc.constantFrom('string', 'url', 'none'), urlHost, urlPort, fc.option(options, { nil: undefined }));
    fc.assert(fc.property(args, ([m, form, uh, up, o]) => {
      const mod = m === 'http' ? http : https;
      const list: unknown[] = [];
      const url = `${protocol[m]}//${uh}${up}/p`;
      if (form === 'string') list.push(url);
      if (form === 'url') list.push(new URL(url));
      if (o) {
        const opts: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(o)) {
          if (k === 'agent') {
            if (v === 'false') opts.agent = false;
            else if (v === 'null') opts.agent = null;
            else if (v === 'custom') opts.agent = fakeAgent(protocol[m], 8443);
            else if (v === 'custom-noport') opts.agent = fakeAgent(protocol[m], undefined);
          } else if (k === 'createConnection') {
            if (v) opts.createConnection = (co: { host?: unknown; port?: unknown }) => { last = `${normalizeHost(String(co.host)).toLowerCase()}:${Number(co.port)}`; throw new Error('not connecting'); };
          } else {
            opts[k] = v;
          }
        }
        list.push(opts);
      } else if (form === 'none') {
        list.push({});
      }
      check(mod, m === 'http' ? 80 : 443, list);
    }), { numRuns: 2000 });
  });

  it('a request marked as decided by the SDK capture and a unix socket are not decided again', () => {
    expect(endpointOf([{ host: 'a.example', headers: { [DECIDED]: true } }], 80)).toBeUndefined();
    expect(endpointOf(['http://a.example/', { headers: { [DECIDED]: true } }], 80)).toBeUndefined();
    expect(endpointOf([{ socketPath: '/tmp/x.sock' }], 80)).toBeUndefined();
  });

  it('non-enumerable option fields are ignored too (Object.assign), and a caller\'s _defaultAgent gives http its port', () => {
    const hidden = Object.defineProperty({}, 'hostname', { value: 'evil.example', enumerable: false });
    expect(endpointOf(['http://good.example/', hidden], 80)?.endpoint).toBe('good.example:80');
    expect(actual(http, ['http://good.example/', hidden])).toBe('good.example:80');
    last = undefined;
    const custom = { host: 'a.example', _defaultAgent: fakeAgent('http:', 8081) };
    expect(actual(http, [custom]) ?? last).toBe('a.example:8081');
    expect(endpointOf([custom], 80)?.endpoint).toBe('a.example:8081');
    last = undefined;
    const overridden = { host: 'a.example', _defaultAgent: fakeAgent('https:', 8081), ca: 'x' };
    expect(actual(https, [overridden]) ?? last).toBe('a.example:443'); // https.request replaces it
    expect(endpointOf([overridden], 443)?.endpoint).toBe('a.example:443');
  });

  it('inherited option fields are ignored, as ClientRequest copies only own fields', () => {
    const opts = Object.create({ hostname: 'evil.example', port: 99 }) as object;
    expect(endpointOf(['http://good.example/', opts], 80)?.endpoint).toBe('good.example:80');
    expect(actual(http, ['http://good.example/', opts])).toBe('good.example:80');
  });
});
