/**
 * What the commands that edit a compacted topic share (`wsn-watch silence`,
 * `wsn-watch model`): opening the topic as a table for one command.
 */
import type { Config } from '../common/config.ts';
import { UserError } from '../common/errors.ts';
import { createLogger } from '../common/log.ts';
import type { KeyedTable, TableSpec } from '../common/transport.ts';
import { createTransport } from '../transport/index.ts';

/**
 * Opens `spec` as a table, runs `use`, and closes everything whatever
 * happens. A transport failure becomes KAFKA_UNREACHABLE naming `what` (e.g.
 * "the silences topic wsn.silences"); a UserError of `use` passes unchanged.
 */
export async function withTable<T>(
  config: Config,
  spec: TableSpec & { what: string; logName: string },
  use: (table: KeyedTable) => Promise<T>,
): Promise<T> {
  const logger = createLogger(spec.logName, process.env.WSN_LOG_LEVEL ?? 'error');
  const transport = createTransport(config, { logger });
  const table = transport.table({ topic: spec.topic, partitions: spec.partitions });
  try {
    return await use(table);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      'KAFKA_UNREACHABLE',
      `cannot use ${spec.what} on Kafka at ${config.kafka.brokers.join(',')}: ${(error as Error).message}`,
      'start it with `wsn-watch services up` or set kafka.brokers / WSN_KAFKA_BROKERS',
    );
  } finally {
    await table.close().catch(() => undefined);
    await transport.close().catch(() => undefined);
  }
}
