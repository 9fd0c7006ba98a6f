import type { Command } from 'commander';
import { registerTrainCommand } from './train/cli.ts';
import { registerEvalCommand } from './eval/cli.ts';
import { registerDataCommands } from '../sources/cli.ts';

/** Registers the model lab's commands: `wsn-watch train` and `wsn-watch eval` (with `data`). */
export function registerModelCommands(program: Command): void {
  registerTrainCommand(program);
  registerEvalCommand(program);
  registerDataCommands(program);
}
