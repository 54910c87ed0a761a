import type { Command } from 'commander';

/**
 * Distribution commands (engine/distribution):
 *   warden rules publish BUNDLE      sign + upload a bundle, check it, then move the "current" pointer
 *   warden rules rollback VERSION    point "current" back at a version published earlier
 *   warden rules status              what an agent starting now would enforce, and what it would reject
 *   warden rules codeowners [dir]    check / write the CODEOWNERS section generated from owners.yaml
 *   warden killswitch on|off|status  every agent to monitor mode (or back) without a redeploy
 *   warden keys generate|public      a local signing key pair; the public key of a KMS signing key
 *   warden exceptions status         a function's approved exceptions as its agent sees them (verified)
 * Exit codes: 0 done; 1 refused or failed (one line on stderr says why and what to do).
 */

type Io = import('../../distribution/cli-actions').CliIo;

async function io(): Promise<Io> {
  return {
    out: (s) => { process.stdout.write(s); },
    err: (s) => { process.stderr.write(s); },
    env: process.env,
    clock: { now: () => Date.now() },
  };
}

async function loader() {
  const { defaultBundleLoader } = await import('../../distribution/bundle-loader');
  return defaultBundleLoader();
}

const STORE_HELP = 'policy store: s3://BUCKET/PREFIX or a directory (default: $WARDEN_POLICY_STORE)';

function storeOptions(cmd: Command): Command {
  return cmd.option('--store <url>', STORE_HELP).option('--region <region>', 'AWS region of the bucket / KMS key')
    .option('--bucket-owner <account>', 'AWS account that must own the store bucket (default: $WARDEN_POLICY_BUCKET_OWNER)');
}

function signerOptions(cmd: Command): Command {
  return storeOptions(cmd)
    .option('--kms-key-id <id>', 'KMS asymmetric signing key (id, ARN or alias; default: $WARDEN_KMS_KEY_ID)')
    .option('--key <file>', 'local private key from `warden keys generate` (default: $WARDEN_SIGNING_KEY_FILE or $WARDEN_SIGNING_KEY)')
    .option('--by <name>', 'who publishes, recorded in the signed pointer (default: $GITHUB_ACTOR or $USER)')
    .option('--json', 'print the result as one JSON line', false);
}

export function registerPublishCommands(program: Command, rules: Command): void {
  signerOptions(rules.command('publish')
    .description('sign and upload a bundle (from `warden rules bundle`), check what landed, then move the "current" pointer')
    .argument('<bundle>', 'bundle file written by `warden rules bundle` (or a rules directory, compiled now)'))
    .option('--public-key <file>', 'public key(s) the agents trust: publishing fails unless the upload verifies with them (default: $WARDEN_POLICY_PUBLIC_KEY[_FILE])')
    .option('--source-repo <repo>', 'rules repository, recorded in the pointer (default: $GITHUB_REPOSITORY)')
    .option('--source-commit <sha>', 'commit the bundle was built from (default: $GITHUB_SHA)')
    .option('--source-ref <ref>', 'branch or tag (default: $GITHUB_REF)')
    .option('--force', 'move the pointer even if it already names this bundle', false)
    .action(async (bundle: string, opts) => {
      const { runPublish } = await import('../../distribution/cli-actions');
      process.exitCode = await runPublish(bundle, opts, await io(), await loader());
    });

  signerOptions(rules.command('rollback')
    .description('point "current" back at a version published earlier (checked as agents will check it)')
    .argument('<policyVersion>', 'e.g. sha256:3f9a…, as `warden rules status` or the pointer history shows'))
    .option('--public-key <file>', 'public key(s) the agents trust')
    .action(async (version: string, opts) => {
      const { runRollback } = await import('../../distribution/cli-actions');
      process.exitCode = await runRollback(version, opts, await io(), await loader());
    });

  storeOptions(rules.command('status')
    .description('load the store as an agent would: the version it would enforce, the kill switch, and anything it would reject (exit 1 then)'))
    .option('--public-key <file>', 'trusted public key(s) (default: $WARDEN_POLICY_PUBLIC_KEY[_FILE])')
    .option('--json', 'print the status as one JSON line', false)
    .action(async (opts) => {
      const { runStatus } = await import('../../distribution/cli-actions');
      process.exitCode = await runStatus(opts, await io(), await loader());
    });

  rules.command('codeowners')
    .description('check (or --write) the CODEOWNERS section generated from owners.yaml: who must review which rules file')
    .argument('[dir]', 'rules directory', 'rules')
    .option('--repo-root <dir>', 'git repository root holding .github/CODEOWNERS (default: the rules directory)')
    .option('--write', 'write the Warden section of CODEOWNERS (other lines are kept)', false)
    .option('--json', 'print the findings as one JSON line', false)
    .action(async (dir: string, opts) => {
      const { runCodeOwners } = await import('../../distribution/cli-actions');
      process.exitCode = await runCodeOwners(dir, opts, await io());
    });

  const kill = program.command('killswitch').description('put every agent in monitor mode (observe and report, never block), or back, without a redeploy');
  signerOptions(kill.command('on').description('engage: agents stop blocking on their next refresh (default within 60 s)'))
    .requiredOption('--reason <text>', 'why (shown in every agent log line and in `killswitch status`)')
    .action(async (opts) => {
      const { runKillSwitch } = await import('../../distribution/cli-actions');
      process.exitCode = await runKillSwitch('on', opts, await io());
    });
  signerOptions(kill.command('off').description('release: agents return to the modes their rules set'))
    .option('--reason <text>', 'why', 'released')
    .action(async (opts) => {
      const { runKillSwitch } = await import('../../distribution/cli-actions');
      process.exitCode = await runKillSwitch('off', opts, await io());
    });
  storeOptions(kill.command('status').description('the kill switch as agents see it (verified)'))
    .option('--public-key <file>', 'trusted public key(s) (default: $WARDEN_POLICY_PUBLIC_KEY[_FILE])')
    .option('--json', 'print as one JSON line', false)
    .action(async (opts) => {
      const { runKillSwitchStatus } = await import('../../distribution/cli-actions');
      process.exitCode = await runKillSwitchStatus(opts, await io(), await loader());
    });

  const exceptions = program.command('exceptions').description('approved, time-bound exceptions as the agents receive them');
  storeOptions(exceptions.command('status').description("a function's signed exceptions document, verified as its agent verifies it: what is in force, what has expired"))
    .requiredOption('--function <name>', 'the protected function')
    .option('--public-key <file>', 'the exceptions public key the agents pin (default: $WARDEN_EXCEPTIONS_PUBLIC_KEY[_FILE])')
    .option('--json', 'print as one JSON line', false)
    .action(async (opts) => {
      const { runExceptionsStatus } = await import('../../distribution/cli-actions');
      process.exitCode = await runExceptionsStatus(opts, await io());
    });

  const keys = program.command('keys').description('signing keys for published bundles');
  keys.command('generate')
    .description('a local signing key pair (Ed25519 by default) for local stores and CI without KMS')
    .requiredOption('--out <dir>', 'directory for warden-signing.key (private, mode 0600) and warden-signing.pub')
    .option('--type <type>', 'ed25519 | ecdsa-p256', 'ed25519')
    .option('--json', 'print the result as one JSON line', false)
    .action(async (opts) => {
      const { runKeysGenerate } = await import('../../distribution/cli-actions');
      process.exitCode = await runKeysGenerate(opts, await io());
    });
  keys.command('public')
    .description('the PEM public key of a KMS signing key: what agents and the engine pin (WARDEN_POLICY_PUBLIC_KEY)')
    .option('--kms-key-id <id>', 'KMS key id, ARN or alias (default: $WARDEN_KMS_KEY_ID)')
    .option('--region <region>', 'AWS region of the key')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (opts) => {
      const { runKeysPublic } = await import('../../distribution/cli-actions');
      process.exitCode = await runKeysPublic(opts, await io());
    });
}
