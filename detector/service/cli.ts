import type { Command } from 'commander';

export function registerDetectCommand(program: Command): void {
  void program;
}
