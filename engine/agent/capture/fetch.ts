/**
 * Global `fetch` (undici) capture: the global is wrapped; a blocked call rejects like a network
 * failure does, `TypeError('fetch failed')` whose `cause` is the AccessDeniedByPolicy. A fetch made
 * through a reference taken before the agent was installed still meets the socket catch-all.
 */
import { urlEndpoints } from './http';
import { cover, isExempt, observeEndpoint, state } from './state';

type Fetch = typeof globalThis.fetch;
const S = state();

/** The URL fetch will parse: a string, an URL's href, a Request's url, or what String() gives. */
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
  // Not async: an allowed call returns fetch's own promise, no extra promise or tick on the call path.
  const wrapped = function fetch(this: unknown, input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) {
    const agent = S.agent;
    if (!agent) return original.call(this, input, init);
    const url = urlOf(input);
    // data:, blob: and relative URLs do not leave the process (a relative URL fails in fetch itself).
    const u = url === undefined ? undefined : urlEndpoints.get(url);
    if (u === undefined) return original.call(this, input, init);
    const e = u.endpoint;
    if (isExempt(e.endpoint, e)) return original.call(this, input, init);
    const rec = observeEndpoint(agent, e);
    if (rec.blocked) return Promise.reject(new TypeError('fetch failed', { cause: agent.deniedError(rec) }));
    cover(e.endpoint, e);
    return original.call(this, input, init);
  } as Fetch;
  wrappers.set(original, wrapped);
  return wrapped;
}
