import type { Config } from '../common/config.ts';
import { readinessLogger, startOpsServer, type OpsServer } from '../common/http.ts';
import type { Logger } from '../common/log.ts';
import type { BatchCommit, KeyedTable, Subscription, Transport, TransportProducer } from '../common/transport.ts';
import { stopDeadline } from '../transport/stop-deadline.ts';
import type { CheckpointStore } from './checkpoint.ts';
import type { NodeDirectory } from './directory.ts';
import { IngestStatsReporter, type StatsWriter } from './stats-reporter.ts';
import { IngestMetrics } from './metrics.ts';
import { IngestPipeline, type BatchOutcome } from './pipeline.ts';
import { PartitionStateStore } from './partition-state.ts';
import { PartitionedIngestPipeline } from './partitioned-pipeline.ts';
import { startIdleTimers, type IdleTimers } from './idle-timers.ts';
import { DEFAULT_INGEST_TOPICS, INGEST_GROUP, ingestTopicSpecs, type IngestTopicNames } from './topics.ts';

/**
 * The ingest service: consumer group on `wsn.readings` → pipeline → frames on
 * `wsn.frames`, rejects on `wsn.readings.dlq`; `/metrics`, `/healthz`,
 * `/readyz` on ingest.httpPort. With `checkpoints` (a local file), one
 * instance per network: its aligner spans all partitions, and readings may be
 * keyed by node. With `sharedState`, any number of instances in one consumer
 * group: readings keyed by cluster, each partition aligned on its own and its
 * state kept on the table (see partitioned-pipeline.ts).
 */
export interface IngestServiceOptions {
  config: Config;
  transport: Transport;
  directory: NodeDirectory;
  /** The single-process state (a local file): one ingest per group. */
  checkpoints?: CheckpointStore;
  /** Per-partition state on this compacted table instead: several ingest processes per group. */
  sharedState?: KeyedTable;
  logger: Logger;
  /** Serve /metrics etc. (default true). */
  http?: boolean;
  groupId?: string;
  /** Read wsn.readings from the start when the group has no committed offsets (default true). */
  fromBeginning?: boolean;
  metrics?: IngestMetrics;
  /** Topic names (default: the design's); tests use their own. */
  topics?: IngestTopicNames;
  /** Another condition of /readyz: a reason while it is not met (e.g. the topology follower cannot follow), null when it is. */
  notReadyReason?: () => string | null;
  /** Write `pipeline` points (source=ingest) every intervalMs; best effort, see influx-stats.ts. */
  stats?: { writer: StatsWriter; intervalMs: number; url?: string };
}

export interface IngestService {
  pipeline: IngestPipeline | PartitionedIngestPipeline;
  metrics: IngestMetrics;
  /** Port of the ops endpoint, when served. */
  httpPort: number | null;
  /** Finishes the batch in progress, publishes and checkpoints it, commits, leaves the group. */
  stop(): Promise<void>;
}

/** The ops endpoint (/metrics /healthz /readyz), unless the options turn HTTP off. */
async function startIngestOps(
  options: IngestServiceOptions,
  metrics: IngestMetrics,
  ingestReady: () => boolean,
): Promise<OpsServer | null> {
  if (options.http === false) return null;
  const { config, transport, logger } = options;
  const dependenciesReady = readinessLogger(options.notReadyReason, logger);
  const ops = await startOpsServer({
    port: config.ingest.httpPort,
    host: config.ops.host,
    registry: metrics.registry,
    ready: () => ingestReady() && dependenciesReady(),
    problems: () => transport.health?.() ?? [],
  });
  logger.info({ port: ops.port }, 'ops endpoint: /metrics /healthz /readyz');
  return ops;
}

/** The periodic ingest stats writer, when the options ask for one (already started). */
function startStatsReporter(options: IngestServiceOptions, metrics: IngestMetrics): IngestStatsReporter | null {
  if (!options.stats) return null;
  const stats = new IngestStatsReporter({
    metrics,
    writer: options.stats.writer,
    network: options.config.network,
    intervalMs: options.stats.intervalMs,
    url: options.stats.url,
    logger: options.logger,
  });
  stats.start();
  return stats;
}

/** The single-process pipeline (local checkpoint), or the scale-out one (state per partition on a table). */
async function createPipeline(
  options: IngestServiceOptions,
  producer: TransportProducer,
  metrics: IngestMetrics,
  topics: IngestTopicNames,
): Promise<IngestPipeline | PartitionedIngestPipeline> {
  const { config, logger } = options;
  const common = { ingest: config.ingest, directory: options.directory, producer, metrics, logger, topics };
  if (options.sharedState) {
    return new PartitionedIngestPipeline({
      ...common,
      validation: config.validation,
      store: new PartitionStateStore(options.sharedState, config.network, options.groupId ?? INGEST_GROUP),
      readingsPartitions: await options.transport.topicPartitions(topics.readings),
    });
  }
  if (!options.checkpoints) throw new Error('ingest needs checkpoints (one process) or sharedState (several)');
  return new IngestPipeline({ ...common, checkpoints: options.checkpoints, validation: config.validation });
}

/**
 * A single-process ingest that owns only some readings partitions shares its
 * group with another process: its frames then lack the other's nodes. Said
 * loudly, with the way to run several.
 */
async function warnIfShared(transport: Transport, readings: string, owned: string[], logger: Logger): Promise<void> {
  const partitions = await transport.topicPartitions(readings).catch(() => owned.length);
  if (owned.length >= partitions) return;
  logger.error(
    { owned, partitions },
    'another ingest process is in this consumer group, but this one keeps its state in a local file (--state file): the frames of both miss the nodes of the other; run every ingest of a group with --state kafka and readings keyed by cluster',
  );
}

export async function startIngestService(options: IngestServiceOptions): Promise<IngestService> {
  const { config, transport, logger } = options;
  const metrics = options.metrics ?? new IngestMetrics({ defaultMetrics: options.http !== false });
  let ready = false;
  const ops = await startIngestOps(options, metrics, () => ready);
  let producer: TransportProducer | null = null;
  let subscription: Subscription | null = null;
  let idleTimers: IdleTimers | null = null;
  try {
    const topics = options.topics ?? DEFAULT_INGEST_TOPICS;
    await transport.ensureTopics(ingestTopicSpecs(topics));
    producer = await transport.producer();
    const pipeline = await createPipeline(options, producer, metrics, topics);
    let lastArrival = Date.now();
    subscription = await transport.subscribe({
      groupId: options.groupId ?? INGEST_GROUP,
      topics: [topics.readings],
      fromBeginning: options.fromBeginning ?? true,
      batchWaitMs: config.ingest.batchWaitMs,
      onBatch: async (batch) => {
        lastArrival = Date.now();
        const outcome: BatchOutcome & Partial<BatchCommit> = await pipeline.handleBatch(batch);
        logger.debug({ partition: batch.partition, ...outcome }, 'batch');
        // Scale-out: commit only as far as the partition's saved state.
        return outcome.commitOffset === undefined ? undefined : { commitOffset: outcome.commitOffset };
      },
      onAssignment: async (assignment) => {
        ready = true;
        logger.info({ assignment }, 'ingest owns partitions');
        const sources = Object.entries(assignment).flatMap(([topic, partitions]) =>
          partitions.map((p) => `${topic}:${p}`),
        );
        // Queued at once (before any batch of the new assignment); the check beside it asks the broker.
        const assigned = pipeline.assign(sources);
        if (pipeline instanceof IngestPipeline)
          void warnIfShared(transport, topics.readings, sources, logger).catch(() => undefined);
        await assigned;
      },
    });
    idleTimers = startIdleTimers(pipeline, config.ingest, logger, () => lastArrival);
    const stats = startStatsReporter(options, metrics);
    const openProducer = producer;
    const openSubscription = subscription;
    const openIdleTimers = idleTimers;
    return {
      pipeline,
      metrics,
      httpPort: ops?.port ?? null,
      stop: async () => {
        ready = false;
        openIdleTimers.stop();
        // Kafka down (or a topic deleted) would hold the writes below for ever: past the timeout they are given up.
        const deadline = stopDeadline(transport, config.kafka.stopTimeoutMs, logger);
        try {
          // Scale-out: save while still in the group; once it is left, the partitions' next owner may load them.
          if (pipeline instanceof PartitionedIngestPipeline)
            await pipeline
              .checkpoint()
              .catch((error: unknown) =>
                logger.warn(
                  { err: error },
                  'ingest state not saved; the next owner replays the readings since the last save',
                ),
              );
          await openSubscription.close();
          await pipeline.drain();
          // A fresh snapshot: the next start has no journal to replay.
          if (pipeline instanceof IngestPipeline) await pipeline.checkpoint();
          await stats?.stop();
          await openProducer.close();
          await ops?.close();
        } finally {
          deadline.clear();
        }
        logger.info('ingest stopped');
      },
    };
  } catch (error) {
    idleTimers?.stop();
    await subscription?.close().catch(() => undefined);
    await producer?.close().catch(() => undefined);
    await ops?.close().catch(() => undefined);
    throw error;
  }
}
