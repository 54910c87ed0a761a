import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { SimulationSetupError } from './errors';

/**
 * The synthesized Warden template the simulation runs: synthesized IN-PROCESS, once per run, from
 * the current sources and the scenario's rules directory (so it can never be stale), with Lambda
 * bundling and cdk-nag skipped (the simulation reads only the template). ~2–4 s.
 */
export interface SynthResult {
  template: { Resources?: Record<string, unknown>; Outputs?: Record<string, unknown> };
  stackName: string;
  ms: number;
  /** true when the template came from the cache (same sources, same rules) */
  cached: boolean;
}

/** What the template depends on, under the package root (as the test suite's synth cache): sources, rules, lock file. */
const INPUTS = ['infra', 'engine', 'workflows', 'package-lock.json', 'cdk.json'];
/** bumped when the way the simulation synthesizes changes */
const CACHE_FORMAT = 'simulate-synth/2';

/** Content hash of everything the synthesized template depends on: the sources and the rules directory. */
export function synthInputsHash(root: string, rulesDir: string): string {
  const h = createHash('sha256').update(CACHE_FORMAT).update('\0');
  const walk = (p: string, base: string) => {
    if (!existsSync(p)) return;
    if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) if (name !== 'node_modules' && !name.startsWith('.')) walk(join(p, name), base);
    } else {
      h.update(relative(base, p)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  for (const i of INPUTS) walk(join(root, i), root);
  h.update('rules\0');
  walk(rulesDir, rulesDir);
  return h.digest('hex');
}

/**
 * The template for these rules: from the cache when the sources and rules are byte-for-byte those
 * it was synthesized from (the hash covers both), else synthesized now and cached. `cacheDir`
 * undefined (or not writable) means always synthesize; `reuse: false` synthesizes and refreshes it.
 */
export async function templateFor(rulesDir: string, opts: { root: string; cacheDir?: string; nowMs?: () => number; /** false: synthesize anyway (and refresh the cache) */ reuse?: boolean }): Promise<SynthResult> {
  const nowMs = opts.nowMs ?? (() => performance.now());
  if (!opts.cacheDir) return synthesizeTemplate(rulesDir, nowMs);
  const started = nowMs();
  const hash = synthInputsHash(opts.root, rulesDir);
  const file = join(opts.cacheDir, `template-${hash.slice(0, 32)}.json`);
  if (opts.reuse !== false && existsSync(file)) {
    try {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as { stackName: string; template: SynthResult['template'] };
      return { template: cached.template, stackName: cached.stackName, ms: nowMs() - started, cached: true };
    } catch {
      /* unreadable: synthesize again */
    }
  }
  const result = await synthesizeTemplate(rulesDir, nowMs);
  try {
    mkdirSync(opts.cacheDir, { recursive: true });
    for (const old of readdirSync(opts.cacheDir)) if (old.startsWith('template-')) rmSync(join(opts.cacheDir, old), { force: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ stackName: result.stackName, template: result.template }));
    renameSync(tmp, file);
  } catch {
    /* a read-only installation: no cache, nothing lost */
  }
  return result;
}

export async function synthesizeTemplate(rulesDir: string, nowMs: () => number = () => performance.now()): Promise<SynthResult> {
  const started = nowMs();
  const outdir = mkdtempSync(join(tmpdir(), 'warden-simulate-'));
  try {
    const [{ App }, { BUNDLING_STACKS }, { buildWardenApp }] = await Promise.all([
      import('aws-cdk-lib'),
      import('aws-cdk-lib/cx-api'),
      import('../../../infra/warden-app'),
    ]);
    // the built-in CloudFormation validation (wasm) is most of synth's time; deploys and the test suite run it
    const app = new App({ outdir, context: { [BUNDLING_STACKS]: [] }, builtinCloudFormationValidation: false });
    // with the policy store: its approval workflow publishes approved exceptions to the store, as on AWS
    const { stack } = buildWardenApp(app, { WARDEN_RULES_DIR: rulesDir, WARDEN_NAG: '0', WARDEN_STACK_NAME: 'WardenSimulated', WARDEN_ENABLE_POLICY_STORE: '1' });
    const assembly = app.synth({ validateOnSynthesis: false });
    const artifact = assembly.getStackArtifact(stack.artifactId);
    return { template: artifact.template as SynthResult['template'], stackName: stack.stackName, ms: nowMs() - started, cached: false };
  } catch (err) {
    const message = (err as Error).message;
    // constructs that resolve their Lambda entry files from __dirname cannot be synthesized from a bundle
    const hint = /Cannot find entry file/.test(message)
      ? '. This build of the CLI is a bundle, from which the stack\'s Lambda entry files cannot be found: run the simulation from the sources (`npm start`, or `npx tsx engine/cli/main.ts simulate`)'
      : '';
    throw new SimulationSetupError(`synthesizing the Warden stack for rules ${rulesDir} failed: ${message}${hint}`, { cause: err });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The repository / package root (holds package.json named "warden"): the shipped rules/ live there. */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'warden') return dir;
      } catch {
        /* not ours; keep looking */
      }
    }
    if (dirname(dir) === dir) throw new SimulationSetupError(`cannot find Warden's package root above ${from}; run from a Warden checkout or installation`);
  }
}
