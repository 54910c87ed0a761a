import type { Command } from 'commander';

// Placeholder until this command lands; replaced wholesale by its implementation.
export function registerIamPolicyCommand(program: Command): void {
  void program;
}
