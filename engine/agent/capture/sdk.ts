/**
 * AWS SDK v3 capture. Every v3 client extends the smithy `Client` class; its `send` is patched once
 * per class copy (loaded now or later, found through the module loader), and on a client's first
 * `send` a `build`-step middleware is added to that client's stack. The middleware decides each
 * call (service, operation, resource ARNs) before the request handler runs, so a blocked call never
 * sends a byte, and marks the request so the http/socket hooks do not report it again.
 */
import Module from 'node:module';
import { extractResources, partitionOf, servicePrefix } from '../extractors';
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

function wardenMiddleware(client: SmithyClient) {
  let service: string | undefined; // per client; the middleware itself is rebuilt on every send
  return (next: (args: unknown) => Promise<unknown>, context: { commandName?: string; clientName?: string }) => {
    service ??= servicePrefix(client.config?.serviceId ?? (context.clientName ?? 'unknown').replace(/Client$/, ''));
    const cmd = context.commandName ?? 'Unknown';
    const action = cmd.endsWith('Command') ? cmd.slice(0, -7) : cmd;
    /** Decides (throws AccessDeniedByPolicy when blocked), marks the request, then sends it. */
    const decideAndSend = (args: { input?: unknown; request?: SmithyRequest }, region: string): Promise<unknown> => {
      const s = state();
      const agent = s.agent;
      if (!agent) return next(args);
      const req = args.request;
      const host = req?.hostname;
      const port = req?.port ?? (req?.protocol === 'http:' ? 80 : 443);
      const svc = service!;
      const resources = extractResources(svc, action, args.input, { region, account: agent.identity.account ?? '', partition: partitionOf(region) });
      if (resources.length === 0) {
        const rec = agent.observe({ kind: 'aws', service: svc, action, host, port });
        if (rec.blocked) throw agent.deniedError(rec);
      } else {
        for (const resource of resources) {
          const rec = agent.observe({ kind: 'aws', service: svc, action, resource, host, port });
          if (rec.blocked) throw agent.deniedError(rec);
        }
      }
      if (req?.headers) req.headers[DECIDED] = true;
      if (host) s.covered.add(endpointKey(host, port));
      return next(args);
    };
    return (args: { input?: unknown; request?: SmithyRequest }): Promise<unknown> => {
      const s = state();
      if (!s.agent) return next(args);
      if (client[EXEMPT]) {
        const req = args.request;
        if (req?.headers) req.headers[DECIDED] = true;
        if (req?.hostname) s.exempt.add(endpointKey(req.hostname, req.port ?? (req.protocol === 'http:' ? 80 : 443)));
        return next(args);
      }
      // The region is resolved once per client; after that the decision is synchronous.
      const region = client[REGION];
      if (typeof region === 'string') {
        try { return decideAndSend(args, region); } catch (err) { return Promise.reject(err); }
      }
      return regionOf(client).then((r) => decideAndSend(args, r));
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
      if (!this[INSTRUMENTED] && state().agent) instrumentClient(this);
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
  for (const file of Object.keys(cache)) if (SMITHY_CLIENT_FILE.test(file)) maybePatchExports(cache[file]?.exports);

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
      if (original) { cls.prototype.send = original; delete cls.prototype[PATCHED]; }
    }
    patchedClasses.clear();
  };
}
