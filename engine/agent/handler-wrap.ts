/** Finding and wrapping the function's handler as the Lambda runtime loads it (used by register). */
import Module from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { WardenConfigError } from './errors';

export type AnyFn = (...args: never[]) => unknown;

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

