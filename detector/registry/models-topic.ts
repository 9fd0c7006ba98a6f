/**
 * Reading and writing the promoted-model records of the models topic
 * (config registry.topic) for one command: promote, roll back, start or stop
 * a shadow, read the network's current record. The records themselves are
 * pointer.ts.
 */
import type { Config } from '../../common/config.ts';
import type { KeyedTable } from '../../common/transport.ts';
import { ModelRegistry, registryDir, type ModelVersion } from '../../model/registry/store.ts';
import { withTable } from '../open-table.ts';
import {
  MODELS_PARTITIONS,
  encodePromoted,
  promote,
  readPromoted,
  rollback,
  startShadow,
  stopShadow,
  type PromotedModel,
} from './pointer.ts';

/** Opens the models topic as a table, runs `use`, closes everything whatever happens. */
export function withPointers<T>(config: Config, use: (table: KeyedTable) => Promise<T>): Promise<T> {
  const { topic } = config.registry;
  return withTable(
    config,
    { topic, partitions: MODELS_PARTITIONS, what: `the models topic ${topic}`, logName: 'model' },
    use,
  );
}

async function currentOf(table: KeyedTable, network: string): Promise<PromotedModel | undefined> {
  const all = await readPromoted(table, (key, reason) =>
    process.stderr.write(`model: skipping the unreadable record ${key} of the models topic: ${reason}\n`),
  );
  return all.get(network);
}

/** The network's current record on the models topic (undefined: nothing promoted). */
export function readCurrentRecord(config: Config): Promise<PromotedModel | undefined> {
  return withPointers(config, (table) => currentOf(table, config.network));
}

/** The promoted record for listings: a Kafka outage is a warning there, the registry can still be read. */
export async function promotedForListing(config: Config): Promise<PromotedModel | undefined> {
  try {
    return await withPointers(config, (table) => currentOf(table, config.network));
  } catch (error) {
    process.stderr.write(`model: warning: which version is promoted is unknown (${(error as Error).message})\n`);
    return undefined;
  }
}

/** Writes the record that promotes `version` (gate not applied: callers gate first). */
export async function writePromotion(config: Config, version: ModelVersion, by: string): Promise<PromotedModel> {
  return withPointers(config, async (table) => {
    const next = promote(await currentOf(table, config.network), config.network, version, by, Date.now());
    await table.put([{ key: config.network, value: encodePromoted(next) }]);
    return next;
  });
}

/**
 * Writes the record that goes back to the version promoted before the
 * current one (checked in the registry first); the new record and the
 * version it replaced.
 */
export async function writeRollback(
  config: Config,
  registry: ModelRegistry,
  by: string,
): Promise<{ next: PromotedModel; from: string | undefined }> {
  return withPointers(config, async (table) => {
    const current = await currentOf(table, config.network);
    const next = rollback(current, config.network, by, Date.now());
    await registry.verify(await registry.get(next.version));
    await table.put([{ key: config.network, value: encodePromoted(next) }]);
    return { next, from: current?.version };
  });
}

/** Writes the record that starts shadow-scoring `id` (undefined: stops the shadow); the records before and after. */
export async function writeShadow(
  config: Config,
  id: string | undefined,
  by: string,
): Promise<{ current: PromotedModel | undefined; next: PromotedModel }> {
  const registry = new ModelRegistry(registryDir(config));
  const version = id === undefined ? undefined : await registry.get(id);
  if (version) await registry.verify(version);
  return withPointers(config, async (table) => {
    const current = await currentOf(table, config.network);
    const next = version
      ? startShadow(current, version, { network: config.network, by, now: Date.now() })
      : stopShadow(current, config.network, Date.now());
    await table.put([{ key: config.network, value: encodePromoted(next) }]);
    return { current, next };
  });
}
