/**
 * Opening a compacted topic for one command (`wsn-watch silence`,
 * `wsn-watch feedback`, `wsn-watch model`, `wsn-watch retrain`): a transport
 * or a table that is closed whatever happens, and Kafka failures turned into
 * an error that says what to do.
 */
import type { Config } from '../common/config.ts';
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
