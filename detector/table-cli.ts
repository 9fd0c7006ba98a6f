/**
 * What the commands that edit a compacted topic share (`wsn-watch silence`,
 * `wsn-watch feedback`, `wsn-watch model`): the command group with the flags
 * every subcommand takes and the configuration those flags override. Opening
 * the topic for one command is open-table.ts.
 */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../common/config.ts';

/**
 * The configuration of a subcommand: the file of the global `--config`
 * flag, overridden by `flags` (config keys such as `silences.topic`; an
 * undefined value leaves the key alone).
 */
export function subcommandConfig(command: Command, flags: Record<string, string | undefined>): Config {
  const globals = command.optsWithGlobals<{ config?: string }>();
  return loadConfig({ file: globals.config, flags });
}

export interface TableCommandGroup {
  name: string;
  description: string;
  /** Shown after the group's help. */
  examples: string;
  /** Flags every subcommand takes after `--network`, in help order: [flags, help]. */
  commonOptions: ReadonlyArray<readonly [flags: string, help: string]>;
}

/**
 * Adds the command group to `program`. `common` adds the flags every
 * subcommand takes (`--network`, then `commonOptions`) to one subcommand and
 * returns it, so each subcommand's own flags come first in its help.
 */
export function tableCommandGroup(
  program: Command,
  spec: TableCommandGroup,
): { group: Command; common: (command: Command) => Command } {
  const group = program.command(spec.name).description(spec.description).addHelpText('after', spec.examples);
  const common = (command: Command): Command =>
    spec.commonOptions.reduce(
      (withOptions, [flags, help]) => withOptions.option(flags, help),
      command.option('--network <name>', 'sensor network (config network)'),
    );
  return { group, common };
}
