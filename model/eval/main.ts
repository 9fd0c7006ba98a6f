/**
 * `wsn-watch eval` and `wsn-watch data` on their own, without loading the
 * other modules' commands: long evaluation runs then do not depend on the
 * rest of the CLI (`node --import tsx model/eval/main.ts eval ibrl ...`).
 */
import { Command } from 'commander';
import { UserError } from '../../common/errors.ts';
import { registerDataCommands } from '../../sources/cli.ts';
import { registerEvalCommand } from './cli.ts';

const program = new Command('wsn-watch');
registerEvalCommand(program);
registerDataCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof UserError)) throw error;
  process.stderr.write(`error [${error.code}]: ${error.message}\n`);
  if (error.hint) process.stderr.write(`  what to do: ${error.hint}\n`);
  process.exitCode = 2;
}
