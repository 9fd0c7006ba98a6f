import { resolve } from 'node:path';
import type { Config } from '../common/config.ts';
import { UserError } from '../common/errors.ts';
import { createLogger, redactUrl, type Logger } from '../common/log.ts';
import { TOPICS, type Reading } from '../common/types.ts';
import { shutdownSignal } from '../sources/shutdown-signal.ts';
import { InfluxSink } from '../store/influx-sink.ts';
import type { TopologyFollower } from '../topology/kafka.ts';
import { createTransport } from '../transport/index.ts';
import { FileCheckpointStore } from './checkpoint.ts';
import { INGEST_STATE_PARTITIONS } from './partition-state.ts';
import { NodeDirectory } from './directory.ts';
import { startIngestService, type IngestService, type IngestServiceOptions } from './service.ts';
import type { IngestTopicNames } from './topics.ts';
import { layoutFromFile, layoutFromTopology } from './topology-source.ts';

export interface RunIngestOptions {
  /** Node positions file; without it the topology is followed on wsn.topology. */
  topology?: string;
  group: string;
  topics: IngestTopicNames;
  /** Write ingest statistics to InfluxDB (influx.url). */
  influx: boolean;
  statsIntervalSeconds: number;
  /** Most bytes fetched per readings partition and round. */
  fetchBytes: number;
}

/** Where the nodes come from, and the follower that keeps them current when they come from wsn.topology. */
interface DirectorySource {
  directory: NodeDirectory;
  follower: TopologyFollower | null;
}

/**
 * The topology from a file, or the latest on wsn.topology (waiting up to 2
 * minutes for one); later versions go to the running service through `current`.
 */
async function loadDirectory(
  config: Config,
  file: string | undefined,
  logger: Logger,
  current: () => IngestService | null,
  who = 'ingest',
): Promise<DirectorySource> {
  if (file) return { directory: new NodeDirectory(layoutFromFile(config.network, file)), follower: null };
  const { TopologyFollower: Follower, kafkaConnection } = await import('../topology/kafka.ts');
  const follower = new Follower({
    ...kafkaConnection(config.kafka),
    network: config.network,
    logger,
  });
  process.stderr.write(
    `${who}: waiting for the topology of network "${config.network}" on ${TOPICS.topology} (publish one with \`wsn-watch topology publish FILE\`, or pass --topology FILE)\n`,
  );
  await follower.start(async (topology, version) => {
    const service = current();
    if (!service) return;
    await service.pipeline.setDirectory(new NodeDirectory(layoutFromTopology(config.network, topology)));
    logger.info({ version }, 'ingest now uses the new topology');
  });
  const topology = await follower
    .waitFor(() => true, 120_000)
    .catch((error: unknown) => {
      throw new UserError(
        'TOPOLOGY_MISSING',
        `no topology for network "${config.network}" on ${TOPICS.topology}: ${(error as Error).message}`,
        'run `wsn-watch topology publish <node file>` or pass --topology FILE',
      );
    });
  return { directory: new NodeDirectory(layoutFromTopology(config.network, topology)), follower };
}

/**
 * The message key of a reading by its node's cluster, from a topology file
 * or the latest topology of the network on wsn.topology (for producers
 * feeding several ingest processes in one group); an unknown node keeps its
 * own id as key (ingest rejects it as unknown_node anyway).
 */
export async function clusterKeys(config: Config, file?: string): Promise<(reading: Reading) => string> {
  const { directory, follower } = await loadDirectory(config, file, createLogger('replay'), () => null, 'replay');
  await follower?.stop();
  return (reading) => directory.clusterOf(reading.node) ?? reading.node;
}

/** The InfluxDB writer of the ingest statistics; an unreachable InfluxDB is a warning, not a reason to stop. */
async function statsTarget(
  config: Config,
  intervalSeconds: number,
  logger: Logger,
): Promise<IngestServiceOptions['stats']> {
  // No retries: a missed point is covered by the next one, and ingest must not wait on InfluxDB.
  const writer = new InfluxSink({
    url: config.influx.url,
    database: config.influx.database,
    auth: config.influx,
    retries: 0,
    logger,
  });
  await writer.ensureDatabase().catch((error: Error) => {
    process.stderr.write(
      `ingest: warning: InfluxDB at ${redactUrl(config.influx.url)} is not reachable (${error.message}); ingest runs and retries the statistics every ${intervalSeconds} s (--no-influx turns them off)\n`,
    );
  });
  return { writer, intervalMs: intervalSeconds * 1000, url: redactUrl(config.influx.url) };
}

function startLine(
  config: Config,
  topics: IngestTopicNames,
  directory: NodeDirectory,
  state: string,
  httpPort: number | null,
): string {
  return (
    `ingest: network "${config.network}", ${topics.readings} → ${topics.frames} (rejects: ${topics.readingsDlq}), ${directory.nodeCount} nodes in ${directory.clusters.length} cluster(s), topology ${directory.version.slice(0, 12)}; ` +
    `tick ${config.ingest.tickMs} ms, lateness ${config.ingest.allowedLatenessMs} ms; ${state}; http://127.0.0.1:${httpPort}/metrics\n`
  );
}

/** `wsn-watch ingest`: runs the ingest service until SIGINT/SIGTERM, then finishes the batch, checkpoints and commits. */
export async function runIngest(config: Config, options: RunIngestOptions): Promise<void> {
  const logger = createLogger('ingest');
  let service: IngestService | null = null;
  const { directory, follower } = await loadDirectory(config, options.topology, logger, () => service);
  const transport = createTransport(config, { logger, kafka: { maxBytesPerPartition: options.fetchBytes } });
  const shared = config.ingest.state === 'kafka';
  const checkpoints = shared
    ? undefined
    : new FileCheckpointStore(resolve(config.stateDir), config.network, options.group);
  const sharedState = shared
    ? transport.table({ topic: config.ingest.stateTopic, partitions: INGEST_STATE_PARTITIONS })
    : undefined;
  const stats = options.influx ? await statsTarget(config, options.statsIntervalSeconds, logger) : undefined;
  const topics = options.topics;
  const notReadyReason = (): string | null =>
    follower && !follower.health().following
      ? `topology follower: ${follower.health().reason ?? 'not following'}`
      : null;
  const running = await startIngestService({
    config,
    transport,
    directory,
    checkpoints,
    sharedState,
    logger,
    groupId: options.group,
    stats,
    topics,
    notReadyReason,
  });
  service = running;
  const state = checkpoints
    ? `checkpoint ${checkpoints.file}`
    : `state per readings partition on ${config.ingest.stateTopic} (group ${options.group}; readings keyed by cluster)`;
  process.stderr.write(startLine(config, topics, directory, state, running.httpPort));
  const { stopped } = shutdownSignal();
  const name = await stopped;
  process.stderr.write(`ingest: ${name}, finishing the current batch, checkpointing and committing\n`);
  await running.stop();
  await follower?.stop();
  await sharedState?.close();
  await transport.close();
}
