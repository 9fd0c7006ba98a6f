import type { Command } from 'commander';
import { registerTrainCommand } from './train/cli.ts';
import { registerEvalCommand } from './eval/cli.ts';
import { registerDetectCommand } from './service/cli.ts';

/** Registers `wsn-watch train`, `wsn-watch eval` and `wsn-watch detect`. */
export function registerDetectorCommands(program: Command): void {
  registerTrainCommand(program);
  registerEvalCommand(program);
  registerDetectCommand(program);
}
