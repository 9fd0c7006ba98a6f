import type { Command } from 'commander';
import { registerDetectCommand } from './service/cli.ts';
import { registerModelRegistryCommands } from './registry/cli.ts';
import { registerSilenceCommands } from './silences/cli.ts';

/** Registers `wsn-watch detect`, the streaming detector service, `wsn-watch silence` and `wsn-watch model`. */
export function registerDetectorCommands(program: Command): void {
  registerDetectCommand(program);
  registerSilenceCommands(program);
  registerModelRegistryCommands(program);
}
