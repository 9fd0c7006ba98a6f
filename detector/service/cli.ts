/**
 * `wsn-watch detect`: the streaming detector service on Kafka, writing
 * InfluxDB, `wsn.anomalies`, `wsn.alerts`, Alertmanager and webhooks.
 * docs/detector-service.md describes it.
 */
import { FRAME_PARTITIONS, STATE_PARTITIONS } from '../../common/constants.ts';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { configOrigin, loadConfig, type Config, type ConfigOrigin } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { createLogger, redactUrl, type Logger } from '../../common/log.ts';
import { TOPICS } from '../../common/types.ts';
import { TopologyFollower } from '../../topology/kafka.ts';
import { createTransport } from '../../transport/index.ts';
import { ensureBackend, loadDetector } from '../../model/index.ts';
import { InfluxSink } from '../../store/influx-sink.ts';
import { TableCheckpointStore } from '../state/store.ts';
import { checkModel } from './model.ts';
import { describeThreshold, thresholdInForce } from './threshold.ts';
import { NodePositionPublisher } from './node-positions.ts';
import { DETECTOR_GROUP, startDetectorService } from './service.ts';
import { TopologyAdjacency } from './topology.ts';
import { kafkaSecurity } from '../../transport/security.ts';

export interface DetectCliOptions {
  model?: string;
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

const integer = (flag: string, min: number, max = Number.MAX_SAFE_INTEGER) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} needs an integer in [${min}, ${max}], got "${value}"`);
  return n;
};
const probability = (value: string): number => {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`--threshold needs a probability in [0, 1], got "${value}"`);
  return n;
};

export function registerDetectCommand(program: Command): void {
  program
    .command('detect')
    .description('Run the streaming detector: consume wsn.frames, score clusters with the trained model, write InfluxDB, publish wsn.anomalies and route alerts')
    .option('--model <dir>', 'trained model directory (config detector.model, default models/default)')
    .option('--group <id>', 'consumer group; replicas with the same group share the clusters', DETECTOR_GROUP)
    .option('--frames-topic <name>', 'topic to read frames from', TOPICS.frames)
    .option('--anomalies-topic <name>', 'topic to publish cluster scores on', TOPICS.anomalies)
    .option('--alerts-topic <name>', 'topic to publish alert transitions on', TOPICS.alerts)
    .option('--state-topic <name>', 'compacted topic of per-cluster checkpoints', TOPICS.detectorState)
    .option('--frame-partitions <n>', 'partitions of the frames topic if it has to be created', integer('--frame-partitions', 1), FRAME_PARTITIONS)
    .option('--influx-database <name>', 'InfluxDB database (config influx.database)')
    .option('--http-port <port>', '/metrics, /healthz, /readyz port (config detector.httpPort; 0 = any free port)', integer('--http-port', 0, 65535))
    .option('--threshold <p>', 'alert threshold on the node probability (config detector.threshold; default: the threshold stored with the model)', probability)
    .option('--replica-id <id>', 'name of this replica in logs and the pipeline measurement')
    .option('--no-alertmanager', 'do not send alerts to Alertmanager')
    .option('--no-topology', 'do not follow wsn.topology (clusters use the model\'s training graph)')
    .addHelpText(
      'after',
      '\nStop with SIGTERM or Ctrl-C: the batch in flight is finished, written, checkpointed and committed first.\n\nExample:\n  wsn-watch detect --model models/default --group wsn-detector\n',
    )
    .action(async (options: DetectCliOptions, command: Command) => {
      const globals = command.optsWithGlobals<{ config?: string }>();
      const loadOptions = {
        file: globals.config,
        flags: {
          'detector.model': options.model,
          'detector.httpPort': options.httpPort,
          'detector.threshold': options.threshold,
          'influx.database': options.influxDatabase,
        },
      };
      const config = loadConfig(loadOptions);
      await runDetect(config, { ...options, thresholdOrigin: configOrigin('detector.threshold', loadOptions) }, createLogger('detector'));
    });
}

/** Runs the detector until SIGTERM/SIGINT (resolves) or a fatal error (rejects). */
export async function runDetect(config: Config, options: DetectCliOptions, logger: Logger): Promise<void> {
  const progress = (message: string): void => void process.stderr.write(`detect: ${message}\n`);
  const modelDir = path.resolve(config.detector.model);
  progress(`loading the model from ${config.detector.model}`);
  await ensureBackend(config.detector.backend);
  const model = await loadDetector(modelDir);
  checkModel(model, { modalities: config.detector.modalities, window: config.detector.window }, config.detector.model);
  const threshold = thresholdInForce(config.detector.threshold, options.thresholdOrigin, { threshold: model.threshold, name: config.detector.model });
  progress(`model: modalities [${model.config.modalities.join(', ')}], window ${model.config.window}, calibrated threshold ${model.threshold.toFixed(3)}; ${describeThreshold(threshold)}`);
  logger.info({ threshold: threshold.value, source: threshold.source, from: threshold.from }, 'alert threshold in force');

  const sink = new InfluxSink({ url: config.influx.url, database: config.influx.database, auth: config.influx, logger, retries: 3 });
  progress(`checking InfluxDB at ${redactUrl(config.influx.url)} (database ${config.influx.database})`);
  await sink.ensureDatabase().catch((error: Error) => {
    throw new UserError('INFLUX_UNREACHABLE', `cannot use InfluxDB at ${redactUrl(config.influx.url)}: ${error.message}`, 'start it with `wsn-watch services up` or set influx.url / WSN_INFLUX_URL');
  });

  const transport = createTransport(config, { logger });
  const checkpoints = new TableCheckpointStore(transport.table({ topic: options.stateTopic, partitions: STATE_PARTITIONS }), logger);
  progress(`connecting to Kafka at ${config.kafka.brokers.join(',')} (group session timeout ${config.kafka.sessionTimeoutMs / 1000} s); reading checkpoints from ${options.stateTopic}`);
  await checkpoints.start().catch((error: Error) => {
    throw new UserError('KAFKA_UNREACHABLE', `cannot use Kafka at ${config.kafka.brokers.join(',')}: ${error.message}`, 'start it with `wsn-watch services up` or set kafka.brokers / WSN_KAFKA_BROKERS');
  });

  const adjacency = new TopologyAdjacency();
  let follower: TopologyFollower | undefined;
  const positions = new NodePositionPublisher({ writer: sink, network: config.network, logger });
  if (options.topology) {
    follower = new TopologyFollower({ brokers: config.kafka.brokers, clientId: config.kafka.clientId, network: config.network, logger });
    await follower.start((topology, version) => {
      adjacency.update(topology, version);
      logger.info({ version, clusters: topology.clustering.clusters.size }, 'topology applied');
      // Not awaited: the follower should not wait on InfluxDB to apply the next version.
      void positions.publish(topology, version);
    });
  }

  let finish: (error?: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = (error) => (error ? reject(error) : resolve());
  });
  const service = await startDetectorService({
    config,
    transport,
    model,
    sink,
    checkpoints,
    notReadyReason: () => (follower && !follower.health().following ? `topology follower: ${follower.health().reason ?? 'not following'}` : null),
    groupId: options.group,
    topics: { frames: options.framesTopic, anomalies: options.anomaliesTopic, alerts: options.alertsTopic },
    framePartitions: options.framePartitions,
    alertmanager: options.alertmanager,
    adjacency: options.topology ? adjacency.provider : undefined,
    replicaId: options.replicaId,
    logger,
    onFatal: (error) => void shutdown(error),
  });
  progress(`running as ${service.replicaId} in group ${options.group}; /metrics on 127.0.0.1:${service.httpPort}`);

  let shuttingDown = false;
  const shutdown = async (error?: Error): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    progress(error ? `stopping: ${error.message}` : 'stopping: finishing the current batch');
    try {
      await service.stop();
      await follower?.stop();
      await positions.flush();
      await transport.close();
      model.dispose();
    } catch (stopError) {
      logger.error({ err: stopError }, 'error while stopping');
    }
    progress('stopped');
    finish(error);
  };
  // Stay subscribed while stopping: a repeated signal must not kill the process mid-checkpoint.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown) progress(`${signal} again: still finishing the current batch`);
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
