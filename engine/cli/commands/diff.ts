import type { Command } from 'commander';

// Placeholder until this command lands; replaced wholesale by its implementation.
export function registerDiffCommand(rules: Command): void {
  void rules;
}
