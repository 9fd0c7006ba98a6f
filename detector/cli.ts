import type { Command } from 'commander';
import { registerDetectCommand } from './service/cli.ts';
import { registerSilenceCommands } from './silences/cli.ts';

/** Registers `wsn-watch detect`, the streaming detector service, and `wsn-watch silence`. */
export function registerDetectorCommands(program: Command): void {
  registerDetectCommand(program);
  registerSilenceCommands(program);
}
