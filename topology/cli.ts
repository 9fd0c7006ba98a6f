import type { Command } from 'commander';

/** Registers this module's `wsn-watch` subcommands. */
export function registerTopologyCommands(program: Command): void {
  void program;
}
