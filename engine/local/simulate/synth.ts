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
    throw new SimulationSetupError(`synthesizing the Warden stack for rules ${rulesDir} failed: ${(err as Error).message}`, { cause: err });
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
