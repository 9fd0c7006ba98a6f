import type { Command } from 'commander';

/** Registers this module's `wsn-watch` subcommands. */
export function registerIngestCommands(program: Command): void {
  void program;
}
