/**
 * The wiring of `wsn-watch detect` (detector/service/cli.ts parses the flags):
 * loads the model, opens InfluxDB and the checkpoint table, follows the
 * topology, starts the detector service and stops it on SIGTERM/SIGINT.
 */
import { STATE_PARTITIONS } from '../../common/constants.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config, ConfigOrigin } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { redactUrl, type Logger } from '../../common/log.ts';
import type { Transport } from '../../common/transport.ts';
import { kafkaConnection, TopologyFollower } from '../../topology/kafka.ts';
import { createTransport } from '../../transport/index.ts';
import { ensureBackend, type Detector } from '../../model/index.ts';
import { VERSION_FILE } from '../../model/registry/store.ts';
import { InfluxSink } from '../../store/influx-sink.ts';
import { RegistryFollower } from '../registry/follow.ts';
import { TableCheckpointStore } from '../state/store.ts';
import { loadModelToServe } from './load-model.ts';
import { describeThreshold, thresholdInForce } from './threshold.ts';
import { NodePositionPublisher } from './node-positions.ts';
import type { SwapPlan } from './model-swap.ts';
import { startDetectorService } from './service.ts';
import { TopologyAdjacency } from './topology.ts';

export interface DetectOptions {
  model?: string;
  /** Follow the registry's promoted version (registry.follow). */
  registry?: boolean;
  group: string;
  framesTopic: string;
  anomaliesTopic: string;
  alertsTopic: string;
  stateTopic: string;
  framePartitions: number;
  influxDatabase?: string;
  httpPort?: number;
  threshold?: number;
  replicaId?: string;
  alertmanager: boolean;
  topology: boolean;
  /** Where detector.threshold came from, for the start-up line (flag, environment, config file). */
  thresholdOrigin?: ConfigOrigin;
}

type Progress = (message: string) => void;

/** Runs the detector until SIGTERM/SIGINT (resolves) or a fatal error (rejects). */
export async function runDetect(config: Config, options: DetectOptions, logger: Logger): Promise<void> {
  const progress: Progress = (message) => void process.stderr.write(`detect: ${message}\n`);
  const transport = createTransport(config, { logger });
  const registry = config.registry.follow
    ? new RegistryFollower({ config, transport, logger, thresholdOrigin: options.thresholdOrigin })
    : undefined;
  const { model, version } = await (
    registry ? loadPromoted(registry, logger, progress) : loadModel(config, options, logger, progress)
  ).catch(async (error: unknown) => {
    // The transport is open already (the registry reads the models topic): close it, or the process would not exit.
    await registry?.close();
    await transport.close().catch(() => undefined);
    throw error;
  });
  // A shadow named before the start scores from the first frame.
  const shadow = await registry?.loadShadow().catch(() => undefined);
  if (shadow) progress(`model version ${shadow.version} shadow-scored beside ${version} (${shadow.thresholdNote})`);
  const sink = await openInflux(config, logger, progress);
  const checkpoints = await openCheckpoints(config, transport, options.stateTopic, logger, progress);
  const topology = await followTopology(config, options.topology, sink, logger);

  let finish: (error?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = (error) => (error ? reject(error) : resolve());
  });
  const service = await startDetectorService({
    config,
    transport,
    model,
    modelVersion: version,
    disposeModel: () => model.dispose(),
    ...(shadow ? { shadow } : {}),
    sink,
    checkpoints,
    notReadyReason: topology.notReadyReason,
    groupId: options.group,
    topics: { frames: options.framesTopic, anomalies: options.anomaliesTopic, alerts: options.alertsTopic },
    framePartitions: options.framePartitions,
    alertmanager: options.alertmanager,
    adjacency: topology.adjacency,
    topologyChanges: topology.changes,
    replicaId: options.replicaId,
    logger,
    onFatal: (error) => void shutdown(error),
  });
  progress(`running as ${service.replicaId} in group ${options.group}; /metrics on 127.0.0.1:${service.httpPort}`);
  registry?.follow({
    onPromoted: async (slot) => {
      const before = service.processor.modelVersion;
      const plan = await service.promote(slot);
      progress(`model version ${slot.version} promoted: ${describePlan(plan, before)}`);
    },
    onShadow: async (slot) => {
      const before = service.processor.shadowVersion;
      await service.shadow(slot);
      if (slot) progress(`model version ${slot.version} shadow-scored beside ${service.processor.modelVersion}`);
      else if (before) progress(`shadow scoring of model version ${before} stopped`);
    },
  });

  let shuttingDown = false;
  const shutdown = async (error?: Error): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    progress(error ? `stopping: ${error.message}` : 'stopping: finishing the current batch');
    try {
      await registry?.close();
      await service.stop();
      await topology.stop();
      await transport.close();
      service.processor.dispose();
    } catch (stopError) {
      logger.error({ err: stopError }, 'error while stopping');
    }
    progress('stopped');
    finish(error);
  };
  await untilStopped(done, () => shuttingDown, shutdown, progress);
}

/** Waits for `done`, turning SIGTERM/SIGINT into a graceful shutdown meanwhile. */
async function untilStopped(
  done: Promise<void>,
  shuttingDown: () => boolean,
  shutdown: () => Promise<void>,
  progress: Progress,
): Promise<void> {
  // Stay subscribed while stopping: a repeated signal must not kill the process mid-checkpoint.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown()) progress(`${signal} again: still finishing the current batch`);
    void shutdown();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

function describePlan(plan: SwapPlan, before: string): string {
  if (plan.kind === 'immediate')
    return `this replica holds no cluster yet, so it scores from the first tick (instead of ${before})`;
  if (plan.kind === 'scheduled')
    return `warming it up beside ${plan.swap.from.version}; it scores from tick ${new Date(plan.swap.switchTick).toISOString()}`;
  if (plan.kind === 'queued') return `it follows once the swap to ${before} is done`;
  return 'already in use';
}

/** A loaded model and the label its scores carry. */
interface StartModel {
  model: Detector;
  version: string;
}

/** `detect --registry`: the network's promoted version from the registry. */
async function loadPromoted(registry: RegistryFollower, logger: Logger, progress: Progress): Promise<StartModel> {
  progress(`loading the promoted model version from the registry ${registry.registry.shown}`);
  const slot = await registry.loadPromoted().catch((error: Error) => {
    if (error instanceof UserError) throw error;
    throw new UserError('KAFKA_UNREACHABLE', `cannot read the models topic: ${error.message}`);
  });
  progress(
    `model version ${slot.version}: modalities [${slot.model.config.modalities.join(', ')}], window ${slot.model.config.window}; ${slot.thresholdNote}; following promotions`,
  );
  logger.info({ version: slot.version, threshold: slot.policy.threshold }, 'alert threshold in force');
  return { model: slot.model, version: slot.version };
}

/** The label of a pinned model folder: its registry version when it is one, else the folder as given. */
async function pinnedVersion(dir: string, given: string): Promise<string> {
  const text = await readFile(path.join(dir, VERSION_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return given;
  try {
    return (JSON.parse(text) as { id?: string }).id ?? given;
  } catch {
    return given;
  }
}

/** Loads and checks the trained model, and says which alert threshold is in force. */
async function loadModel(
  config: Config,
  options: DetectOptions,
  logger: Logger,
  progress: Progress,
): Promise<StartModel> {
  const modelDir = path.resolve(config.detector.model);
  progress(`loading the model from ${config.detector.model}`);
  await ensureBackend(config.detector.backend, config.detector.modelThreads);
  const model = await loadModelToServe(modelDir, config.detector, config.detector.model);
  const threshold = thresholdInForce(config.detector.threshold, options.thresholdOrigin, {
    threshold: model.threshold,
    name: config.detector.model,
  });
  progress(
    `model: modalities [${model.config.modalities.join(', ')}], window ${model.config.window}, calibrated threshold ${model.threshold.toFixed(3)}; ${describeThreshold(threshold, model)}`,
  );
  logger.info(
    { threshold: threshold.value, source: threshold.source, from: threshold.from },
    'alert threshold in force',
  );
  return { model, version: await pinnedVersion(modelDir, config.detector.model) };
}

async function openInflux(config: Config, logger: Logger, progress: Progress): Promise<InfluxSink> {
  const sink = new InfluxSink({
    url: config.influx.url,
    database: config.influx.database,
    auth: config.influx,
    logger,
    retries: 3,
  });
  progress(`checking InfluxDB at ${redactUrl(config.influx.url)} (database ${config.influx.database})`);
  await sink.ensureDatabase().catch((error: Error) => {
    throw new UserError(
      'INFLUX_UNREACHABLE',
      `cannot use InfluxDB at ${redactUrl(config.influx.url)}: ${error.message}`,
      'start it with `wsn-watch services up` or set influx.url / WSN_INFLUX_URL',
    );
  });
  return sink;
}

async function openCheckpoints(
  config: Config,
  transport: Transport,
  stateTopic: string,
  logger: Logger,
  progress: Progress,
): Promise<TableCheckpointStore> {
  const checkpoints = new TableCheckpointStore(
    // Not mirrored: a replica reads the checkpoints of the clusters it owns at a rebalance, and holds no others.
    transport.table({ topic: stateTopic, partitions: STATE_PARTITIONS, mirror: false }),
    logger,
  );
  progress(
    `connecting to Kafka at ${config.kafka.brokers.join(',')} (group session timeout ${config.kafka.sessionTimeoutMs / 1000} s); reading checkpoints from ${stateTopic}`,
  );
  await checkpoints.start().catch((error: Error) => {
    throw new UserError(
      'KAFKA_UNREACHABLE',
      `cannot use Kafka at ${config.kafka.brokers.join(',')}: ${error.message}`,
      'start it with `wsn-watch services up` or set kafka.brokers / WSN_KAFKA_BROKERS',
    );
  });
  return checkpoints;
}

/** The topology as the service sees it: the followed graph (or none), readiness, and how to stop following. */
interface FollowedTopology {
  adjacency: TopologyAdjacency['provider'] | undefined;
  /** Moves and placements of the followed topology, for the topology alerts. */
  changes: TopologyAdjacency | undefined;
  notReadyReason(): string | null;
  /** Stops following and flushes the node positions still being written. */
  stop(): Promise<void>;
}

async function followTopology(
  config: Config,
  follow: boolean,
  sink: InfluxSink,
  logger: Logger,
): Promise<FollowedTopology> {
  const adjacency = new TopologyAdjacency();
  let follower: TopologyFollower | undefined;
  const positions = new NodePositionPublisher({ writer: sink, network: config.network, logger });
  if (follow) {
    follower = new TopologyFollower({
      ...kafkaConnection(config.kafka),
      network: config.network,
      logger,
      // The detector keeps what it derives (TopologyAdjacency), not the graph.
      keepTopology: false,
    });
    await follower.start((topology, version, clusters) => {
      adjacency.update(topology, version, clusters);
      logger.info({ version, clusters: topology.clustering.clusters.size }, 'topology applied');
      // Not awaited: the follower should not wait on InfluxDB to apply the next version.
      void positions.publish(topology, version);
    });
  }
  return {
    adjacency: follow ? adjacency.provider : undefined,
    changes: follow ? adjacency : undefined,
    notReadyReason: () =>
      follower && !follower.health().following
        ? `topology follower: ${follower.health().reason ?? 'not following'}`
        : null,
    stop: async () => {
      await follower?.stop();
      await positions.flush();
    },
  };
}
