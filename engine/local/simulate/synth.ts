import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
    const { stack } = buildWardenApp(app, { WARDEN_RULES_DIR: rulesDir, WARDEN_NAG: '0', WARDEN_STACK_NAME: 'WardenSimulated' });
    const assembly = app.synth({ validateOnSynthesis: false });
    const artifact = assembly.getStackArtifact(stack.artifactId);
    return { template: artifact.template as SynthResult['template'], stackName: stack.stackName, ms: nowMs() - started };
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
