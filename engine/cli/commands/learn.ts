import type { Command } from 'commander';

// Placeholder until this command lands; replaced wholesale by its implementation.
export function registerLearnCommand(program: Command): void {
  void program;
}
