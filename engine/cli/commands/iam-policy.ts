import type { Command } from 'commander';

/**
 * `warden iam-policy --rules DIR --function NAME [--out FILE] [--allow-wildcard-resource]`
 * Prints the least-privilege IAM policy implied by the function's AWS allow list (deny entries
 * become explicit Deny statements). Warnings go to stderr. Exit 1 when the rules cannot be loaded
 * or no rules file names the function.
 */
export function registerIamPolicyCommand(program: Command): void {
  program
    .command('iam-policy')
    .description("the least-privilege IAM policy implied by a function's AWS allow list")
    .option('-r, --rules <dir>', 'rules directory', 'rules')
    .requiredOption('-f, --function <name>', 'function name')
    .option('-o, --out <file>', 'write the policy JSON to a file instead of stdout')
    .option('--allow-wildcard-resource', 'grant allow entries without a resource on "*" (otherwise they are left out with a warning)', false)
    .action(async (opts: { rules: string; function: string; out?: string; allowWildcardResource: boolean }) => {
      const { loadRulesDir } = await import('../../policy');
      const { awsEntriesFor } = await import('../../iam/from-rules');
      const { buildIamPolicy } = await import('../../iam/iam-policy');
      const { writeFileSync } = await import('node:fs');
      try {
        const repo = await loadRulesDir(opts.rules);
        const entries = awsEntriesFor(repo, opts.function);
        if (entries.files.length === 0) {
          process.stderr.write(`warden iam-policy: no rules file in ${opts.rules}/functions names "${opts.function}" (by name or glob); check the name, or learn one with warden learn\n`);
          process.exitCode = 1;
          return;
        }
        const r = buildIamPolicy(entries.allow, entries.deny, { now: Date.now(), allowWildcardResource: opts.allowWildcardResource });
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
        if (entries.networkDenies > 0) {
          process.stderr.write(`note: ${entries.networkDenies} host/cidr deny entries apply to ${opts.function}; IAM cannot express them (the agent enforces them)\n`);
        }
        const json = JSON.stringify(r.policy, null, 2) + '\n';
        if (opts.out) writeFileSync(opts.out, json);
        else process.stdout.write(json);
      } catch (err) {
        process.stderr.write(`warden iam-policy: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
