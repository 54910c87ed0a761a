/** The template synthesized once per test run by test/infra/global-setup.ts. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CDK_OUT = process.env.WARDEN_CDK_OUT ?? resolve(__dirname, '../../cdk.out');
export const STACK_NAME = 'Warden';

let cached: Record<string, unknown> | undefined;

/** Throws the synth failure recorded by global-setup.ts, if there was one. */
function assertSynthesized(): void {
  const failure = join(CDK_OUT, '.synth-error.txt');
  if (existsSync(failure)) throw new Error(readFileSync(failure, 'utf8'));
}

/** The parsed CloudFormation template of the Warden stack (shared by all tests in a worker). */
export function synthesizedTemplate(): { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: unknown }>; Outputs?: Record<string, unknown> } {
  if (!cached) assertSynthesized();
  cached ??= JSON.parse(readFileSync(join(CDK_OUT, `${STACK_NAME}.template.json`), 'utf8')) as Record<string, unknown>;
  return cached as ReturnType<typeof synthesizedTemplate>;
}

export function nagReport(): { success?: boolean; violations: { ruleName: string; description: string; severity: string; violatingResources: { constructPath: string }[] }[] } {
  assertSynthesized();
  return JSON.parse(readFileSync(join(CDK_OUT, 'nag-report.json'), 'utf8'));
}
