/**
 * The agent layer's content (what `Warden.agentLayer` ships), built with esbuild at synth and by
 * the agent bench (which times exactly this):
 *
 *   nodejs/node_modules/warden/package.json                         exports ./agent/register
 *   nodejs/node_modules/warden/dist/agent-register.js               the agent: what every cold start parses
 *   nodejs/node_modules/warden/dist/agent-policy-store.js           the central rules store (zod, S3 client):
 *                                                                   loaded only when WARDEN_POLICY_STORE is set
 *   nodejs/node_modules/warden/node_modules/@aws-sdk/client-eventbridge/index.js
 *                                                                   the EventBridge client: loaded at the first flush
 *
 * Each file is self-contained (no dependency outside the layer). Split because V8 parses the whole
 * of a file it loads: the EventBridge client and the policy store (~1.1 MB minified together) would
 * otherwise be parsed by every cold start, though only the first flush and a configured store run
 * them. The EventBridge client is private to the package (warden/node_modules): it never shadows the
 * SDK the runtime or the function brings.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync, type BuildOptions } from 'esbuild';

const ROOT = resolve(__dirname, '..');

/** Paths inside the layer directory. */
export const AGENT_LAYER_PACKAGE = join('nodejs', 'node_modules', 'warden');
export const AGENT_LAYER_REGISTER = join(AGENT_LAYER_PACKAGE, 'dist', 'agent-register.js');

/**
 * Writes the agent layer's content into `dir` (`nodejs/...`); `build: false` writes only the
 * package.json (synth without bundling). Target node20: the layer is compatible with Node 20 and 22.
 */
export function writeAgentLayer(dir: string, opts: { build?: boolean; target?: string } = {}): void {
  const pkg = join(dir, AGENT_LAYER_PACKAGE);
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'warden', private: true, exports: { './agent/register': './dist/agent-register.js' } }));
  if (opts.build === false) return;
  const common: BuildOptions = { bundle: true, platform: 'node', target: opts.target ?? 'node20', format: 'cjs', minify: true, logLevel: 'error' };
  // the agent: the EventBridge client stays a require, resolved to the package's private copy below
  buildSync({
    ...common,
    entryPoints: [join(ROOT, 'engine/agent/register.ts')],
    outfile: join(pkg, 'dist', 'agent-register.js'),
    external: ['@aws-sdk/client-eventbridge'],
    define: { WARDEN_AGENT_SPLIT: 'true' },
  });
  buildSync({ ...common, entryPoints: [join(ROOT, 'engine/agent/policy-store.ts')], outfile: join(pkg, 'dist', 'agent-policy-store.js') });
  const eventbridge = join(pkg, 'node_modules', '@aws-sdk', 'client-eventbridge');
  mkdirSync(eventbridge, { recursive: true });
  writeFileSync(join(eventbridge, 'package.json'), JSON.stringify({ name: '@aws-sdk/client-eventbridge', private: true, main: 'index.js' }));
  buildSync({ ...common, stdin: { contents: "module.exports = require('@aws-sdk/client-eventbridge');", resolveDir: ROOT, loader: 'js' }, outfile: join(eventbridge, 'index.js') });
}
