import { Command, CommanderError } from 'commander';
import { UserError } from '../common/errors.ts';
import { registerServicesCommands } from '../ops/cli.ts';
import { registerTopologyCommands } from '../topology/cli.ts';
import { registerModelCommands } from '../model/cli.ts';
import { registerDetectorCommands } from '../detector/cli.ts';
import { registerIngestCommands } from '../ingest/cli.ts';
import { registerDashboardCommands } from '../dashboards/cli.ts';
import { registerDemoCommand } from '../embedded/cli.ts';
import { registerBacktestCommand } from '../embedded/backtest/cli.ts';
import { registerLiveEvalCommand } from '../embedded/live-eval/cli.ts';
import { registerModelGate } from '../embedded/model-gate/cli.ts';

/** Builds the `wsn-watch` command tree; each module registers its own subcommands. */
export function buildProgram(): Command {
  const program = new Command('wsn-watch')
    .description('Streaming anomaly detection for wireless sensor networks')
    .option('-c, --config <file>', 'JSON configuration file (precedence: defaults < file < environment < flags)')
    .showHelpAfterError('(run with --help for usage)');
  registerServicesCommands(program);
  registerTopologyCommands(program);
  registerModelCommands(program);
  registerDetectorCommands(program);
  registerIngestCommands(program);
  registerDashboardCommands(program);
  registerDemoCommand(program);
  registerBacktestCommand(program);
  registerLiveEvalCommand(program);
  registerModelGate(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof UserError) {
      process.stderr.write(`error [${error.code}]: ${error.message}\n`);
      if (error.hint) process.stderr.write(`  what to do: ${error.hint}\n`);
      process.exitCode = 2;
      // A service that failed half-way through its start (e.g. its port taken after Kafka connected)
      // may hold open connections; the command has failed, so do not let them keep the process alive.
      setTimeout(() => process.exit(2), 2_000).unref();
      return;
    }
    throw error;
  }
}
