import type { Command } from 'commander';
import { registerFeedbackCommands } from './feedback/cli.ts';
import { registerDetectCommand } from './service/cli.ts';
import { registerModelRegistryCommands } from './registry/cli.ts';
import { registerSilenceCommands } from './silences/cli.ts';
import { registerRetrainCommand } from './retrain/cli.ts';
import { registerDriftCommand } from './retrain/drift-cli.ts';

/** Registers `wsn-watch detect`, the streaming detector service, `wsn-watch silence`, `wsn-watch feedback`, `wsn-watch model`, `wsn-watch retrain` and `wsn-watch drift`. */
export function registerDetectorCommands(program: Command): void {
  registerDetectCommand(program);
  registerSilenceCommands(program);
  registerFeedbackCommands(program);
  registerModelRegistryCommands(program);
  registerRetrainCommand(program);
  registerDriftCommand(program);
}
