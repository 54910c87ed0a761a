/**
 * Global `fetch` (undici) capture: the global is wrapped; a blocked call rejects like a network
 * failure does, `TypeError('fetch failed')` whose `cause` is the AccessDeniedByPolicy. A fetch made
 * through a reference taken before the agent was installed still meets the socket catch-all.
 */
import { hostPortFromUrl } from './http';
import { EndpointAccesses, endpointKey, state } from './state';

const accesses = new EndpointAccesses('http');

type Fetch = typeof globalThis.fetch;

function urlOf(input: unknown): string | undefined {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  if (input && typeof input === 'object' && typeof (input as { url?: unknown }).url === 'string') return (input as { url: string }).url;
  return input === undefined || input === null ? undefined : String(input);
}

// One wrapper per original fetch, reused across install/uninstall: a stable function stays optimized.
const wrappers = new WeakMap<Fetch, Fetch>();

export function installFetchCapture(): () => void {
  const original = globalThis.fetch;
  if (typeof original !== 'function') return () => undefined;
  const wrapped = wrappers.get(original) ?? makeWrapper(original);
  globalThis.fetch = wrapped;
  return () => { if (globalThis.fetch === wrapped) globalThis.fetch = original; };
}

function makeWrapper(original: Fetch): Fetch {
  const wrapped = function fetch(this: unknown, input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) {
    const s = state();
    const agent = s.agent;
    if (!agent) return original.call(this, input, init);
    const url = urlOf(input);
    // data:, blob: and relative URLs do not leave the process (a relative URL fails in fetch itself).
    const t = url && (url.startsWith('http:') || url.startsWith('https:')) ? hostPortFromUrl(url, url.startsWith('https:') ? 443 : 80) : undefined;
    if (!t) return original.call(this, input, init);
    const key = endpointKey(t.host, t.port);
    if (s.exempt.has(key)) return original.call(this, input, init);
    const e = accesses.get(key, t.host, t.port);
    const rec = agent.observe(e.access, e.key);
    if (rec.blocked) return Promise.reject(new TypeError('fetch failed', { cause: agent.deniedError(rec) }));
    s.covered.add(key);
    return original.call(this, input, init);
  } as Fetch;
  wrappers.set(original, wrapped);
  return wrapped;
}
