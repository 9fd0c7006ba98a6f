import type { Command } from 'commander';
import { registerDetectCommand } from './service/cli.ts';

/** Registers `wsn-watch detect`, the streaming detector service. */
export function registerDetectorCommands(program: Command): void {
  registerDetectCommand(program);
}
