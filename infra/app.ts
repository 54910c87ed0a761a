/**
 * The Warden CDK app: `npm run synth` (offline, no credentials) writes `cdk.out/`;
 * `npx cdk deploy` deploys it (cdk.json points here).
 *
 * Settings come from the environment so the same app serves synth, tests and deploys:
 * WARDEN_RULES_DIR (default ./rules), WARDEN_SLACK_SIGNING_SECRET_ARN, WARDEN_SLACK_BOT_TOKEN_ARN,
 * WARDEN_AGENT_ACCOUNTS (comma-separated), WARDEN_STACK_NAME (default Warden).
 * cdk-nag: by default its AwsSolutions findings fail the synth; WARDEN_NAG=report writes them to
 * `<outdir>/nag-report.json` instead (the test suite asserts on that file); WARDEN_NAG=0 skips it.
 * WARDEN_SKIP_BUNDLING=1 leaves Lambda code unbundled (tests read only the template).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { BUNDLING_STACKS, PATH_METADATA_ENABLE_CONTEXT } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildWardenApp } from './warden-app';

const outdir = process.env.CDK_OUTDIR ?? 'cdk.out';
// a synth by hand invalidates the test suite's cached template
rmSync(join(outdir, '.warden-inputs-hash'), { force: true });
const nag = process.env.WARDEN_NAG ?? 'fail';
const app = new App({
  outdir,
  // construct paths in the template let the local runner and the tests name resources
  context: { [PATH_METADATA_ENABLE_CONTEXT]: true, ...(process.env.WARDEN_SKIP_BUNDLING === '1' ? { [BUNDLING_STACKS]: [] } : {}) },
});
const { stack } = buildWardenApp(app, { ...process.env, WARDEN_NAG: nag === 'fail' ? '1' : '0' });
app.synth();
if (nag === 'report') {
  const report = new AwsSolutionsChecks().validateScope(stack);
  writeFileSync(join(outdir, 'nag-report.json'), JSON.stringify(report, null, 2));
}
