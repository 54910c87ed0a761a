/**
 * `warden/agent/register`: zero-code instrumentation.
 *
 *   NODE_OPTIONS="--require warden/agent/register"
 *
 * Installs every hook before the function's code loads (so the AWS SDK's HTTP handler and every
 * library see the hooked modules), then makes sure each invocation is flushed:
 *  1. CommonJS handlers: when the Lambda runtime requires the module named by `_HANDLER`, the
 *     handler export it gets is wrapped with `withWarden` (flush before the result is returned).
 *  2. Any handler (also ESM): set the function's handler to this module's `handler` export
 *     (`/opt/nodejs/node_modules/warden/dist/agent-register.handler`) and the real one in
 *     `WARDEN_HANDLER` (`index.handler`); it loads the real handler and wraps it.
 *  3. Otherwise (unwrapped handler): a reportable access schedules a flush on the next turn of the
 *     event loop, and `beforeExit`/SIGTERM flush everything; a violation may then be delivered
 *     after the invocation returned (when the container thaws). Documented in the README.
 */
import Module from 'node:module';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WardenConfigError } from './errors';
import { flush, install, withWarden } from './runtime';

export { flush, withWarden };

type AnyFn = (...args: never[]) => unknown;

/** `_HANDLER` ("dir/index.handler") → the module path (without extension) and the export name. */
export function parseHandlerString(handler: string, taskRoot: string): { modulePath: string; exportName: string } {
  const m = /^(.+)\.([^./]+)$/.exec(handler.trim());
  if (!m) throw new WardenConfigError(`Invalid handler "${handler}": expected "<module path>.<export name>", e.g. "index.handler".`);
  const mod = m[1]!;
  return { modulePath: isAbsolute(mod) ? mod : resolve(taskRoot, mod), exportName: m[2]! };
}

/** A copy of a module's exports whose `name` export is wrapped (exports from bundlers are often read-only getters). */
export function wrapExport(exports: unknown, name: string, wrap: (fn: AnyFn) => AnyFn): unknown {
  if (!exports || (typeof exports !== 'object' && typeof exports !== 'function')) return exports;
  const fn = (exports as Record<string, unknown>)[name];
  if (typeof fn !== 'function') return exports;
  const copy: Record<string, unknown> = Object.create(Object.getPrototypeOf(exports));
  for (const key of Reflect.ownKeys(exports)) {
    const d = Object.getOwnPropertyDescriptor(exports, key);
    if (d) Object.defineProperty(copy, key, { ...d, configurable: true });
  }
  Object.defineProperty(copy, name, { value: wrap(fn as AnyFn), enumerable: true, writable: true, configurable: true });
  return copy;
}

const CANDIDATE_EXTENSIONS = ['', '.js', '.cjs'];

/** Hooks the module loader so the runtime receives a wrapped handler. Returns the uninstaller. */
export function wrapHandlerOnLoad(handlerString: string, taskRoot: string, wrap: (fn: AnyFn) => AnyFn): () => void {
  const { modulePath, exportName } = parseHandlerString(handlerString, taskRoot);
  const targets = new Set(CANDIDATE_EXTENSIONS.map((e) => modulePath + e));
  const base = modulePath.slice(modulePath.lastIndexOf('/') + 1);
  const M = Module as unknown as {
    _load: (request: string, parent: unknown, isMain: boolean) => unknown;
    _resolveFilename: (request: string, parent: unknown, isMain: boolean) => string;
  };
  const originalLoad = M._load;
  let done = false;
  const load = function (this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    const exports = originalLoad.call(this, request, parent, isMain);
    if (done || typeof request !== 'string' || !request.includes(base)) return exports;
    let file: string;
    try { file = M._resolveFilename(request, parent, isMain); } catch { return exports; }
    if (!targets.has(file)) return exports;
    done = true;
    return wrapExport(exports, exportName, wrap);
  };
  M._load = load;
  return () => { if (M._load === load) M._load = originalLoad; };
}

let realHandler: Promise<AnyFn> | undefined;

async function loadRealHandler(): Promise<AnyFn> {
  const spec = process.env.WARDEN_HANDLER;
  if (!spec) throw new WardenConfigError('WARDEN_HANDLER is not set: set it to your real handler (e.g. "index.handler") when the function handler is warden/agent/register.handler.');
  const { modulePath, exportName } = parseHandlerString(spec, process.env.LAMBDA_TASK_ROOT ?? process.cwd());
  const file = ['', '.js', '.mjs', '.cjs'].map((e) => modulePath + e).find((f) => existsSync(f));
  if (!file) throw new WardenConfigError(`WARDEN_HANDLER "${spec}": no module at ${modulePath}(.js|.mjs|.cjs).`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown> & { default?: Record<string, unknown> };
  const fn = mod[exportName] ?? mod.default?.[exportName];
  if (typeof fn !== 'function') throw new WardenConfigError(`WARDEN_HANDLER "${spec}": ${file} has no exported function "${exportName}".`);
  return withWarden(fn as never) as AnyFn;
}

/** Handler redirect: the function's handler is this export and WARDEN_HANDLER names the real one. */
export async function handler(event: unknown, context: unknown): Promise<unknown> {
  realHandler ??= loadRealHandler();
  realHandler.catch(() => { realHandler = undefined; });
  const fn = await realHandler;
  return fn(event as never, context as never);
}

function main(): void {
  try {
    install();
  } catch (err) {
    process.stderr.write(JSON.stringify({ level: 'ERROR', source: 'warden.agent', message: (err as Error).message }) + '\n');
    throw err;
  }
  const h = process.env._HANDLER;
  const redirect = /(^|\/)agent-register\.handler$/.test(h ?? '');
  if (h && !redirect) {
    try {
      wrapHandlerOnLoad(h, process.env.LAMBDA_TASK_ROOT ?? process.cwd(), (fn) => withWarden(fn as never) as AnyFn);
    } catch (err) {
      process.stderr.write(JSON.stringify({ level: 'WARN', source: 'warden.agent', message: `handler not wrapped: ${(err as Error).message}` }) + '\n');
    }
  }
  process.once('beforeExit', () => { void flush({ final: true }); });
  const onSigterm = () => {
    // Flush, then re-raise so the default behaviour (or the other listeners) still applies.
    void flush({ final: true }).finally(() => {
      process.removeListener('SIGTERM', onSigterm);
      if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
    });
  };
  process.on('SIGTERM', onSigterm);
}

// Loaded by `--require` (or imported): instrument now. Tests import the helpers with WARDEN_REGISTER_DISABLE=1.
if (process.env.WARDEN_REGISTER_DISABLE !== '1') main();
