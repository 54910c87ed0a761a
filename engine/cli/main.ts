#!/usr/bin/env node
import { Command } from 'commander';
import { registerRulesCommands } from './commands/rules';
import { registerEvalCommand } from './commands/eval';
import { registerDiffCommand } from './commands/diff';
import { registerLearnCommand } from './commands/learn';
import { registerIamPolicyCommand } from './commands/iam-policy';
import { registerSimulateCommand } from './commands/simulate';
import { registerPublishCommands } from './commands/publish';

// Each command module registers its own options and lazy-loads its heavy code in the action,
// so `warden --help` and `warden eval` start fast.
export function buildProgram(): Command {
  const program = new Command('warden')
    .description('Warden: access-policy engine for AWS serverless')
    .showHelpAfterError()
    .exitOverride((err) => { process.exitCode = err.exitCode; throw err; });
  const rules = program.command('rules').description('lint, test, bundle, diff and publish a rules repo');
  registerRulesCommands(rules);
  registerDiffCommand(rules);
  registerPublishCommands(program, rules);
  registerEvalCommand(program);
  registerLearnCommand(program);
  registerIamPolicyCommand(program);
  registerSimulateCommand(program);
  return program;
}

if (require.main === module) {
  buildProgram().parseAsync(process.argv).catch((err: unknown) => {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code?.startsWith('commander.')) {
      process.exitCode = e.exitCode ?? 1;
      return;
    }
    console.error(`warden: ${e.message ?? String(err)}`);
    process.exitCode = process.exitCode || 1;
  });
}
