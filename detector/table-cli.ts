/**
 * What the commands that edit a compacted topic share (`wsn-watch silence`,
 * `wsn-watch feedback`, `wsn-watch model`): the command group with the flags
 * every subcommand takes, the configuration those flags override, and
 * opening the topic for one command.
 */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../common/config.ts';
import { UserError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { KeyedTable, TableSpec, Transport } from '../common/transport.ts';
import { createTransport } from '../transport/index.ts';

/** What a failure is about, and the logger's name: e.g. "the silences topic wsn.silences", `silence`. */
export interface TableUse {
  what: string;
  logName: string;
}

/**
 * Opens a transport, runs `use`, and closes it whatever happens. A transport
 * failure becomes KAFKA_UNREACHABLE naming `what`; a UserError of `use`
 * passes unchanged.
 */
export async function withTransport<T>(
  config: Config,
  spec: TableUse,
  use: (transport: Transport) => Promise<T>,
): Promise<T> {
  const logger = createLogger(spec.logName, process.env.WSN_LOG_LEVEL ?? 'error');
  const transport = createTransport(config, { logger });
  try {
    return await use(transport);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      'KAFKA_UNREACHABLE',
      `cannot use ${spec.what} on Kafka at ${config.kafka.brokers.join(',')}: ${(error as Error).message}`,
      'start it with `wsn-watch services up` or set kafka.brokers / WSN_KAFKA_BROKERS',
    );
  } finally {
    await transport.close().catch(() => undefined);
  }
}

/** Opens `spec` as a table, runs `use`, and closes everything whatever happens (errors as withTransport). */
export function withTable<T>(
  config: Config,
  spec: TableSpec & TableUse,
  use: (table: KeyedTable) => Promise<T>,
): Promise<T> {
  return withTransport(config, spec, async (transport) => {
    const table = transport.table({ topic: spec.topic, partitions: spec.partitions });
    try {
      return await use(table);
    } finally {
      await table.close().catch(() => undefined);
    }
  });
}

/**
 * The configuration of a subcommand: the file of the global `--config`
 * flag, overridden by `flags` (config keys such as `silences.topic`; an
 * undefined value leaves the key alone).
 */
export function subcommandConfig(command: Command, flags: Record<string, string | undefined>): Config {
  const globals = command.optsWithGlobals<{ config?: string }>();
  return loadConfig({ file: globals.config, flags });
}

export interface TableCommandGroup {
  name: string;
  description: string;
  /** Shown after the group's help. */
  examples: string;
  /** Flags every subcommand takes after `--network`, in help order: [flags, help]. */
  commonOptions: ReadonlyArray<readonly [flags: string, help: string]>;
}

/**
 * Adds the command group to `program`. `common` adds the flags every
 * subcommand takes (`--network`, then `commonOptions`) to one subcommand and
 * returns it, so each subcommand's own flags come first in its help.
 */
export function tableCommandGroup(
  program: Command,
  spec: TableCommandGroup,
): { group: Command; common: (command: Command) => Command } {
  const group = program.command(spec.name).description(spec.description).addHelpText('after', spec.examples);
  const common = (command: Command): Command =>
    spec.commonOptions.reduce(
      (withOptions, [flags, help]) => withOptions.option(flags, help),
      command.option('--network <name>', 'sensor network (config network)'),
    );
  return { group, common };
}
