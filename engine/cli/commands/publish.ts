import type { Command } from 'commander';

// Placeholder until this command lands; replaced wholesale by its implementation.
export function registerPublishCommands(program: Command, rules: Command): void {
  void program; void rules;
}
