/**
 * AWS SDK v3 capture. Every v3 client extends the smithy `Client` class; its `send` is patched once
 * per class copy (loaded now or later, found through the module loader).
 *
 * Each call is decided where the request is complete and nothing has been sent: at the client's
 * request handler (`config.requestHandler.handle`), which gets the signed request (endpoint host and
 * port, as resolved for this call: S3 hosts vary per bucket) and the `options` given to `send`. The
 * patched `send` puts the call (client, operation, input) on those options under a symbol; the
 * handler's `handle`, wrapped once per handler object, finds it there, decides (service, operation,
 * resource ARNs, host), and either rejects with AccessDeniedByPolicy (not a retryable error: the
 * SDK does not try again) or marks the request so the http/socket hooks do not report it again.
 * Nothing is added to the client's middleware stack, which smithy resolves again on every send.
 *
 * Fallback, with the same decision: a `build`-step middleware, for clients that cache their
 * resolved middleware (`cacheMiddleware: true`: per-call options would not reach the handler) and
 * for commands that do not carry their operation name in their schema (older SDK copies).
 */
import Module from 'node:module';
import { RESOURCE_KEYS, extractResources, partitionOf, servicePrefix, type ResourceKey } from '../extractors';
import type { Access } from '../../events/access-event';
import { AgentCore, type AccessRecord } from '../core';
import { DECIDED, EXEMPT, addExempt, cover, endpointKey, observeEndpoint, state, type CachedAccess, type CoverMark } from './state';

const PATCHED = Symbol.for('warden.agent.sdkPatched');
/** On a client: it decides through the middleware (the fallback) */
const INSTRUMENTED = Symbol.for('warden.agent.sdkInstrumented');
/** On the options `send` passes to the request handler: the call to decide there */
const CALL = Symbol.for('warden.agent.sdkCall');
/** On a request handler object: its own `handle`, wrapped */
const HANDLER = Symbol.for('warden.agent.sdkHandler');
/** On a client: its ClientCache */
const CACHE = Symbol.for('warden.agent.sdkClientCache');

interface SmithyRequest { hostname?: string; port?: number; protocol?: string; headers?: Record<string | symbol, unknown> }
interface MiddlewareStack { add(mw: unknown, opts: Record<string, unknown>): void }
interface RequestHandler { handle?: Handle; [k: symbol]: unknown }
type Handle = (this: unknown, request: SmithyRequest, options?: Record<symbol, unknown>) => Promise<unknown>;
interface SmithyClient {
  config?: { serviceId?: string; region?: unknown; cacheMiddleware?: unknown; requestHandler?: RequestHandler };
  middlewareStack?: MiddlewareStack;
  handlers?: unknown;
  [k: symbol]: unknown;
}
type Send = (this: SmithyClient, command: unknown, optionsOrCb?: unknown, cb?: unknown) => unknown;
interface ClientClass { prototype: { send: Send; [k: symbol]: unknown } }

const S = state();
const patchedClasses = new Set<ClientClass>();
// One wrapper per original send, reused across install/uninstall: a stable function stays optimized.
const sendWrappers = new WeakMap<Send, Send>();

/** The client's region (its config may hold a provider); resolved once per client, kept in its ClientCache. */
async function regionOf(client: SmithyClient): Promise<string> {
  const r = client.config?.region;
  let region: string;
  try { region = String((typeof r === 'function' ? await (r as () => unknown)() : r) ?? ''); } catch { region = ''; }
  return region || (state().agent?.identity.region ?? '');
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

/** One access of a client as the hooks reuse it: the access, its cache key (built once), its last record. */
type Entry = CachedAccess;

/**
 * What one client reuses from call to call: its service prefix, the extractor context (rebuilt
 * when the function's account or the region changes), its endpoint's `host:port` key, and its
 * accesses by operation, then resource ARN (the strings the extractors return are the keys: no key
 * is built per call).
 */
interface ClientCache extends CoverMark {
  service: string;
  /** the client's region, once resolved */
  region?: string;
  ctx?: { region: string; account: string; partition: string };
  host?: string;
  port?: number;
  endpoint?: string;
  /** operation → (resource ARN, or '' for none) → the access at the last host/port seen (bounded) */
  accesses: Map<string, Map<string, Entry>>;
  size: number;
  /** the service's resource key (RESOURCE_KEYS), if it has one */
  resourceKey: ResourceKey | undefined;
  /**
   * The client's last call with one resource named by a resource key: its operation, key, endpoint,
   * context and record. A call equal in all of them is counted on that record (AgentCore.recount)
   * without extracting, building keys or looking anything up — the common warm-function case of
   * the same table or queue call after call.
   */
  lastAction?: string;
  lastKey?: string;
  lastHost?: string;
  lastPort?: number;
  lastCtx?: ClientCache['ctx'];
  lastRec?: AccessRecord;
}

function accessOf(c: ClientCache, action: string, resource: string | undefined, host: string | undefined, port: number): Entry {
  let byResource = c.accesses.get(action);
  if (byResource === undefined) { byResource = new Map(); c.accesses.set(action, byResource); }
  const r = resource ?? '';
  const e = byResource.get(r);
  if (e !== undefined && e.access.host === host && e.access.port === port) return e;
  const access: Access = resource === undefined ? { kind: 'aws', service: c.service, action, host, port } : { kind: 'aws', service: c.service, action, resource, host, port };
  const fresh: Entry = { access, key: AgentCore.keyOf(access) };
  if (e === undefined && ++c.size > 1_000) { c.accesses.clear(); c.size = 1; byResource = new Map(); c.accesses.set(action, byResource); }
  byResource.set(r, fresh);
  return fresh;
}

/** The client's cache, created on its first decided call. */
function cacheOf(client: SmithyClient, clientName?: string): ClientCache {
  let c = client[CACHE] as ClientCache | undefined;
  if (c === undefined) {
    const service = servicePrefix(client.config?.serviceId ?? (clientName ?? 'unknown').replace(/Client$/, ''));
    c = { service, accesses: new Map(), size: 0, resourceKey: RESOURCE_KEYS[service] };
    client[CACHE] = c;
  }
  return c;
}

/**
 * Decides one call against the request about to be sent: undefined when it may go (the request is
 * then marked as decided), the AccessDeniedByPolicy otherwise. Never throws.
 */
function decideCall(c: ClientCache, action: string, input: unknown, req: SmithyRequest | undefined, region: string): Error | undefined {
  const agent = S.agent;
  if (!agent) return undefined;
  const host = req?.hostname;
  const port = portOf(req);
  const account = agent.identity.account ?? '';
  let ctx = c.ctx;
  if (ctx === undefined || ctx.region !== region || ctx.account !== account) ctx = c.ctx = { region, account, partition: partitionOf(region) };
  const key = c.resourceKey !== undefined && input !== null && typeof input === 'object' ? c.resourceKey(action, input as Record<string, unknown>) : undefined;
  const last = c.lastRec;
  if (key !== undefined && last !== undefined && key === c.lastKey && action === c.lastAction && host === c.lastHost && port === c.lastPort && ctx === c.lastCtx && agent.recount(last)) {
    if (last.blocked) return agent.deniedError(last);
  } else {
    const resources = extractResources(c.service, action, input, ctx);
    if (resources.length === 0) {
      const e = accessOf(c, action, undefined, host, port);
      const rec = observeEndpoint(agent, e);
      if (rec.blocked) return agent.deniedError(rec);
    } else {
      for (let i = 0; i < resources.length; i++) {
        const e = accessOf(c, action, resources[i], host, port);
        const rec = observeEndpoint(agent, e);
        if (key !== undefined && resources.length === 1) { c.lastKey = key; c.lastAction = action; c.lastHost = host; c.lastPort = port; c.lastCtx = ctx; c.lastRec = rec; }
        if (rec.blocked) return agent.deniedError(rec);
      }
    }
  }
  const headers = req?.headers;
  if (headers) headers[DECIDED] = true;
  if (host) {
    if (c.host !== host || c.port !== port || c.endpoint === undefined) { c.host = host; c.port = port; c.endpoint = endpointKey(host, port); c.coveredEpoch = undefined; }
    cover(c.endpoint, c);
  }
  return undefined;
}

/** The port a request goes to: its own, or its scheme's. */
function portOf(req: SmithyRequest | undefined): number {
  return req?.port ?? (req?.protocol === 'http:' ? 80 : 443);
}

/** The agent's own client (PutEvents): its request is marked and its endpoint exempt, nothing is decided. */
function exemptRequest(req: SmithyRequest | undefined): void {
  if (req?.headers) req.headers[DECIDED] = true;
  if (req?.hostname) addExempt(endpointKey(req.hostname, portOf(req)));
}

type Proceed<A, B> = (this: unknown, a: A, b: B) => Promise<unknown>;

/**
 * The one decision step of both paths (request handler and middleware): the agent's own client is
 * marked exempt; any other call is decided once the client's region is known (resolved on its
 * first call, synchronous after that). Then `proceed.call(self, a, b)` sends the request, or the
 * returned promise rejects with the AccessDeniedByPolicy and nothing is sent.
 */
function decideThen<A, B>(client: SmithyClient, c: ClientCache, action: string, input: unknown, req: SmithyRequest | undefined, proceed: Proceed<A, B>, self: unknown, a: A, b: B): Promise<unknown> {
  if (client[EXEMPT]) { exemptRequest(req); return proceed.call(self, a, b); }
  const region = c.region;
  if (region !== undefined) {
    const denied = decideCall(c, action, input, req, region);
    return denied === undefined ? proceed.call(self, a, b) : Promise.reject(denied);
  }
  return regionOf(client).then((r) => {
    c.region = r;
    const denied = decideCall(c, action, input, req, r);
    if (denied !== undefined) throw denied;
    return proceed.call(self, a, b);
  });
}

/** One call on its way to the request handler. */
interface Call { readonly client: SmithyClient; readonly action: string; readonly input: unknown }

/** The operation name a current SDK command carries in its schema (`[9, namespace, name, …]`), or undefined. */
function operationOf(command: unknown): string | undefined {
  const schema = (command as { schema?: unknown } | null | undefined)?.schema;
  if (!Array.isArray(schema) || schema[0] !== 9) return undefined;
  const name: unknown = schema[2];
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}

/**
 * Wraps a request handler's `handle` (an own property, once per handler object, shared by every
 * client using it). Without a call on the options — a request that did not come through a patched
 * `send`, or no agent — it only forwards. Kept wrapped after uninstall (inert): no registry of
 * handlers is kept alive for that.
 */
function wrapHandler(h: RequestHandler): boolean {
  if (h[HANDLER] !== undefined) return true;
  const original = h.handle;
  if (typeof original !== 'function') return false;
  h.handle = function handle(this: unknown, request: SmithyRequest, options?: Record<symbol, unknown>) {
    const call = options?.[CALL] as Call | undefined;
    if (call === undefined || S.agent === undefined) return original.call(this, request, options);
    return decideThen(call.client, cacheOf(call.client), call.action, call.input, request, original, this, request, options);
  };
  h[HANDLER] = original;
  return true;
}

function wardenMiddleware(client: SmithyClient) {
  return (next: (args: unknown) => Promise<unknown>, context: { commandName?: string; clientName?: string }) => {
    const c = cacheOf(client, context.clientName);
    const action = actionOf(context.commandName);
    return (args: { input?: unknown; request?: SmithyRequest }): Promise<unknown> => {
      if (!S.agent) return next(args);
      return decideThen(client, c, action, args.input, args.request, next, undefined, args, undefined);
    };
  };
}

/** Adds the middleware to one client (idempotent): the fallback path. */
export function instrumentClient(client: SmithyClient): void {
  if (client[INSTRUMENTED] || !client.middlewareStack) return;
  client[INSTRUMENTED] = true;
  client.middlewareStack.add(wardenMiddleware(client), { step: 'build', priority: 'high', name: 'wardenAccessMiddleware', tags: ['WARDEN'], override: true });
  // A client that cached its resolved handlers before we were installed must rebuild them.
  delete client.handlers;
}

/**
 * The options to give `send` so that the call is decided at the request handler, or undefined when
 * this client or command cannot be decided there (then the middleware decides it).
 */
function callOptions(client: SmithyClient, command: unknown, optionsOrCb: unknown): Record<symbol, unknown> | undefined {
  const config = client.config;
  if (config === undefined || config.cacheMiddleware === true) return undefined;
  const h = config.requestHandler;
  if (h === undefined || h === null || typeof h !== 'object' || !wrapHandler(h)) return undefined;
  const action = operationOf(command);
  if (action === undefined) return undefined;
  const call: Call = { client, action, input: (command as { input?: unknown }).input };
  // the caller's own options are copied, never changed
  return optionsOrCb !== null && typeof optionsOrCb === 'object' ? { ...optionsOrCb, [CALL]: call } : { [CALL]: call };
}

/** Patches a smithy Client class so every instance's calls are decided. */
export function patchClientClass(C: unknown): boolean {
  const cls = C as ClientClass | undefined;
  const proto = cls?.prototype;
  if (!proto || typeof proto.send !== 'function' || proto[PATCHED]) return false;
  const original = proto.send;
  let send = sendWrappers.get(original);
  if (!send) {
    send = function send(this: SmithyClient, command: unknown, optionsOrCb?: unknown, cb?: unknown) {
      if (S.agent === undefined || this[INSTRUMENTED] === true) return original.call(this, command, optionsOrCb, cb);
      const options = callOptions(this, command, optionsOrCb);
      if (options === undefined) { instrumentClient(this); return original.call(this, command, optionsOrCb, cb); }
      // send(command, callback): the options go before the callback
      return typeof optionsOrCb === 'function' ? original.call(this, command, options, optionsOrCb) : original.call(this, command, options, cb);
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
