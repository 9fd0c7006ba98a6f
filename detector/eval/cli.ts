import type { Command } from 'commander';

export function registerEvalCommand(program: Command): void {
  void program;
}
