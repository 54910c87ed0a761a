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
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { WardenConfigError } from './errors';
import { parseHandlerString, wrapHandlerOnLoad, type AnyFn } from './handler-wrap';
import { flush, install, withWarden } from './runtime';

export { flush, withWarden };

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
