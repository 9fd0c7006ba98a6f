/**
 * The flags every `model` subcommand takes (`model list|show|…` here,
 * `model compare` in embedded/model-gate) and the configuration they
 * override.
 */
import type { Command } from 'commander';
import type { Config } from '../../common/config.ts';
import { subcommandConfig } from '../table-cli.ts';

export interface RegistryFlags {
  network?: string;
  registry?: string;
  topic?: string;
}

/** The configuration of a `model` subcommand: the global `--config` file, overridden by its flags. */
export function registryConfigOf(command: Command, flags: RegistryFlags): Config {
  return subcommandConfig(command, {
    network: flags.network,
    'registry.dir': flags.registry,
    'registry.topic': flags.topic,
  });
}
