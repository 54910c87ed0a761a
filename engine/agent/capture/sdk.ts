/**
 * AWS SDK v3 capture. Every v3 client extends the smithy `Client` class; its `send` is patched once
 * per class copy (loaded now or later, found through the module loader), and on a client's first
 * `send` a `build`-step middleware is added to that client's stack. The middleware decides each
 * call (service, operation, resource ARNs) before the request handler runs, so a blocked call never
 * sends a byte, and marks the request so the http/socket hooks do not report it again.
 */
import Module from 'node:module';
import { extractResources, partitionOf, servicePrefix } from '../extractors';
import type { Access } from '../../events/access-event';
import { AgentCore } from '../core';
import { DECIDED, EXEMPT, endpointKey, state } from './state';

const PATCHED = Symbol.for('warden.agent.sdkPatched');
const INSTRUMENTED = Symbol.for('warden.agent.sdkInstrumented');
const REGION = Symbol.for('warden.agent.region');

interface SmithyRequest { hostname?: string; port?: number; protocol?: string; headers?: Record<string | symbol, unknown> }
interface MiddlewareStack { add(mw: unknown, opts: Record<string, unknown>): void }
interface SmithyClient {
  config?: { serviceId?: string; region?: unknown };
  middlewareStack?: MiddlewareStack;
  handlers?: unknown;
  [k: symbol]: unknown;
}
type Send = (this: SmithyClient, ...args: unknown[]) => unknown;
interface ClientClass { prototype: { send: Send; [k: symbol]: unknown } }

const S = state();
const patchedClasses = new Set<ClientClass>();
// One wrapper per original send, reused across install/uninstall: a stable function stays optimized.
const sendWrappers = new WeakMap<Send, Send>();

async function regionOf(client: SmithyClient): Promise<string> {
  const cached = client[REGION];
  if (typeof cached === 'string') return cached;
  const r = client.config?.region;
  let region: string;
  try { region = String((typeof r === 'function' ? await (r as () => unknown)() : r) ?? ''); } catch { region = ''; }
  region ||= state().agent?.identity.region ?? '';
  client[REGION] = region;
  return region;
}

/** "GetItemCommand" → "GetItem", computed once per command name (not per call). */
const actions = new Map<string, string>();
function actionOf(commandName: string | undefined): string {
  const cmd = commandName ?? 'Unknown';
  let action = actions.get(cmd);
  if (action === undefined) {
    action = cmd.endsWith('Command') ? cmd.slice(0, -7) : cmd;
    if (actions.size >= 10_000) actions.clear();
    actions.set(cmd, action);
  }
  return action;
}

/**
 * What one client reuses from call to call: its service prefix, the extractor context (rebuilt
 * when the function's account or the region changes), and its endpoint's `host:port` key.
 */
interface ClientCache {
  service: string;
  /** the client's region, once resolved */
  region?: string;
  ctx?: { region: string; account: string; partition: string };
  host?: string;
  port?: number;
  endpoint?: string;
  /** `action resource` → the access and its cache key (bounded) */
  accesses: Map<string, { access: Access; key: string }>;
}

function accessOf(c: ClientCache, action: string, resource: string | undefined, host: string | undefined, port: number): { access: Access; key: string } {
  const k = resource === undefined ? action : `${action} ${resource}`;
  let e = c.accesses.get(k);
  if (e === undefined || e.access.host !== host || e.access.port !== port) {
    const access: Access = resource === undefined ? { kind: 'aws', service: c.service, action, host, port } : { kind: 'aws', service: c.service, action, resource, host, port };
    e = { access, key: AgentCore.keyOf(access) };
    if (c.accesses.size >= 1_000) c.accesses.clear();
    c.accesses.set(k, e);
  }
  return e;
}

/** Decides one call (throws AccessDeniedByPolicy when blocked), marks the request, then sends it. */
function decideAndSend(c: ClientCache, action: string, next: (args: unknown) => Promise<unknown>, args: { input?: unknown; request?: SmithyRequest }, region: string): Promise<unknown> {
  const agent = S.agent;
  if (!agent) return next(args);
  const req = args.request;
  const host = req?.hostname;
  const port = req?.port ?? (req?.protocol === 'http:' ? 80 : 443);
  const account = agent.identity.account ?? '';
  let ctx = c.ctx;
  if (ctx === undefined || ctx.region !== region || ctx.account !== account) ctx = c.ctx = { region, account, partition: partitionOf(region) };
  const resources = extractResources(c.service, action, args.input, ctx);
  if (resources.length === 0) {
    const e = accessOf(c, action, undefined, host, port);
    const rec = agent.observe(e.access, e.key);
    if (rec.blocked) throw agent.deniedError(rec);
  } else {
    for (const resource of resources) {
      const e = accessOf(c, action, resource, host, port);
      const rec = agent.observe(e.access, e.key);
      if (rec.blocked) throw agent.deniedError(rec);
    }
  }
  if (req?.headers) req.headers[DECIDED] = true;
  if (host) {
    if (c.host !== host || c.port !== port || c.endpoint === undefined) { c.host = host; c.port = port; c.endpoint = endpointKey(host, port); }
    S.covered.add(c.endpoint);
  }
  return next(args);
}

function wardenMiddleware(client: SmithyClient) {
  let cache: ClientCache | undefined; // per client; smithy calls this factory again on every send
  return (next: (args: unknown) => Promise<unknown>, context: { commandName?: string; clientName?: string }) => {
    const c: ClientCache = cache ??= { service: servicePrefix(client.config?.serviceId ?? (context.clientName ?? 'unknown').replace(/Client$/, '')), accesses: new Map() };
    const action = actionOf(context.commandName);
    return (args: { input?: unknown; request?: SmithyRequest }): Promise<unknown> => {
      if (!S.agent) return next(args);
      if (client[EXEMPT]) {
        const req = args.request;
        if (req?.headers) req.headers[DECIDED] = true;
        if (req?.hostname) S.exempt.add(endpointKey(req.hostname, req.port ?? (req.protocol === 'http:' ? 80 : 443)));
        return next(args);
      }
      // The region is resolved once per client; after that the decision is synchronous.
      const region = c.region;
      if (region !== undefined) {
        try { return decideAndSend(c, action, next, args, region); } catch (err) { return Promise.reject(err); }
      }
      return regionOf(client).then((r) => { c.region = r; return decideAndSend(c, action, next, args, r); });
    };
  };
}

/** Adds the middleware to one client (idempotent). */
export function instrumentClient(client: SmithyClient): void {
  if (client[INSTRUMENTED] || !client.middlewareStack) return;
  client[INSTRUMENTED] = true;
  client.middlewareStack.add(wardenMiddleware(client), { step: 'build', priority: 'high', name: 'wardenAccessMiddleware', tags: ['WARDEN'], override: true });
  // A client that cached its resolved handlers before we were installed must rebuild them.
  delete client.handlers;
}

/** Patches a smithy Client class so every instance is instrumented on its next send. */
export function patchClientClass(C: unknown): boolean {
  const cls = C as ClientClass | undefined;
  const proto = cls?.prototype;
  if (!proto || typeof proto.send !== 'function' || proto[PATCHED]) return false;
  const original = proto.send;
  let send = sendWrappers.get(original);
  if (!send) {
    send = function send(this: SmithyClient, ...args: unknown[]) {
      if (!this[INSTRUMENTED] && S.agent) instrumentClient(this);
      return original.apply(this, args);
    };
    sendWrappers.set(original, send);
  }
  proto.send = send;
  proto[PATCHED] = original;
  patchedClasses.add(cls);
  return true;
}

const SMITHY_CLIENT_FILE = /[\\/]@smithy[\\/](?:core[\\/]dist-cjs[\\/]submodules[\\/]client|smithy-client[\\/]dist-cjs)[\\/]index\.js$/;

function maybePatchExports(exports: unknown): void {
  const e = exports as { Client?: unknown; Command?: unknown } | null;
  if (e && typeof e === 'object' && typeof e.Client === 'function' && typeof e.Command === 'function') patchClientClass(e.Client);
}

/**
 * Installs the SDK capture: patches the smithy Client classes already loaded (require cache)
 * and every copy loaded later (module loader hook). Returns the uninstaller.
 */
export function installSdkCapture(): () => void {
  // Copies already loaded are in the require cache; the others are patched as they load (nothing is
  // required here: loading the SDK is the function's cold-start cost, not the agent's).
  const cache = (Module as unknown as { _cache: Record<string, { exports?: unknown } | undefined> })._cache;
  for (const file of Object.keys(cache)) if (file.endsWith('index.js') && SMITHY_CLIENT_FILE.test(file)) maybePatchExports(cache[file]?.exports);

  const M = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const originalLoad = M._load;
  const load = function (this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    const exports = originalLoad.call(this, request, parent, isMain);
    if (typeof request === 'string' && request.startsWith('@smithy/')) maybePatchExports(exports);
    return exports;
  };
  M._load = load;
  return () => {
    if (M._load === load) M._load = originalLoad;
    for (const cls of patchedClasses) {
      const original = cls.prototype[PATCHED] as Send | undefined;
      // (not `delete`: deleting from a prototype turns it into a slow dictionary object)
      if (original) { cls.prototype.send = original; cls.prototype[PATCHED] = undefined; }
    }
    patchedClasses.clear();
  };
}
