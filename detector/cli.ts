import type { Command } from 'commander';
import { registerFeedbackCommands } from './feedback/cli.ts';
import { registerDetectCommand } from './service/cli.ts';
import { registerModelRegistryCommands } from './registry/cli.ts';
import { registerSilenceCommands } from './silences/cli.ts';

/** Registers `wsn-watch detect`, the streaming detector service, `wsn-watch silence`, `wsn-watch feedback` and `wsn-watch model`. */
export function registerDetectorCommands(program: Command): void {
  registerDetectCommand(program);
  registerSilenceCommands(program);
  registerFeedbackCommands(program);
  registerModelRegistryCommands(program);
}
