/**
 * Process-wide capture state shared by every hook (and by every copy of the agent bundle loaded in
 * the process, through a global symbol): the agent that decides, the endpoints already decided at
 * a higher level (so a socket is not reported twice), and the markers on requests and clients.
 */
import type { Access } from '../../events/access-event';
import { AgentCore } from '../core';

/** On an SDK HttpRequest's headers object: this request was decided by the SDK middleware (never sent as a header). */
export const DECIDED = Symbol.for('warden.agent.decided');
/** On an SDK client: the agent's own client (PutEvents), never captured. */
export const EXEMPT = Symbol.for('warden.agent.exempt');

export interface CaptureState {
  agent: AgentCore | undefined;
  /** `host:port` (lower case) decided and let through by http/fetch/SDK capture; sockets to them are not decided again. */
  covered: Set<string>;
  /** `host:port` never captured (Lambda Runtime API, the agent's own endpoint). */
  exempt: Set<string>;
  /** uninstall functions of the installed hooks, by hook name. */
  hooks: Map<string, () => void>;
  /** `host:port` → the IP address last actually connected to (filled by the socket hook). */
  addresses?: Map<string, string>;
}

const SLOT = Symbol.for('warden.agent.state');

export function state(): CaptureState {
  const g = globalThis as unknown as Record<symbol, CaptureState | undefined>;
  let s = g[SLOT];
  if (!s) {
    s = { agent: undefined, covered: new Set(), exempt: new Set(), hooks: new Map() };
    g[SLOT] = s;
  }
  s.addresses ??= new Map();
  return s;
}

export function endpointKey(host: string, port: number | string): string {
  return `${host.toLowerCase()}:${port}`;
}

/** Strips IPv6 brackets and a trailing dot from a host as the code named it. */
export function normalizeHost(host: string): string {
  if (host.startsWith('[') && host.endsWith(']')) return host.slice(1, -1);
  return host;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
export function isIpLiteral(host: string): boolean {
  return IPV4.test(host) || host.includes(':');
}

/**
 * Endpoint accesses (http/tcp), built once per endpoint and reused with their cache key, so the
 * hot path allocates nothing. Bounded: cleared when it grows past `max` distinct endpoints.
 */
export class EndpointAccesses {
  private readonly map = new Map<string, { access: Access; key: string }>();
  constructor(private readonly kind: 'http' | 'tcp', private readonly max = 10_000) {}

  get(endpoint: string, host: string, port: number): { access: Access; key: string } {
    let e = this.map.get(endpoint);
    if (e === undefined) {
      if (this.map.size >= this.max) this.map.clear();
      const access: Access = isIpLiteral(host) ? { kind: this.kind, host, address: host, port } : { kind: this.kind, host, port };
      e = { access, key: AgentCore.keyOf(access) };
      this.map.set(endpoint, e);
    }
    return e;
  }
}

/** The address last connected to for an endpoint (the event's `address`), if a socket saw it. */
export function connectedAddress(host: string | undefined, port: number | undefined): string | undefined {
  if (host === undefined || port === undefined) return undefined;
  return state().addresses?.get(endpointKey(host, port));
}
