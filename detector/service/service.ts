import { FRAME_PARTITIONS, SIDE_TOPIC_PARTITIONS } from '../../common/constants.ts';
import { randomUUID } from 'node:crypto';
import type { Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { readinessLogger, startOpsServer, type OpsServer } from '../../common/http.ts';
import { createLogger, type Logger } from '../../common/log.ts';
import type { IncomingBatch, Subscription, Transport, TransportProducer } from '../../common/transport.ts';
import { TOPICS, type Frame } from '../../common/types.ts';
import { AlertmanagerRoute } from '../alerts/alertmanager.ts';
import type { AlertRoute } from '../alerts/route.ts';
import { AlertRouter } from '../alerts/router.ts';
import { deliveredByOutbox, startAlertOutbox, webhookRoutes } from '../alerts/outbox.ts';
import { AlertTopicRoute } from '../alerts/topic.ts';
import { alertPolicyFromConfig } from '../alerts/tracker.ts';
import { AnomalyPublisher } from '../../store/anomalies.ts';
import { FanOutSink } from '../../store/fan-out.ts';
import type { ResultSink } from '../../store/sink.ts';
import type { ClusterCheckpointStore } from '../state/store.ts';
import { decodeFrame } from './frames.ts';
import { FIRST_ARRIVAL_HEADER } from '../../ingest/pipeline.ts';
import { DetectorMetrics } from './metrics.ts';
import type { StreamingModel } from './model.ts';
import { FrameProcessor, type AdjacencyProvider } from './processor.ts';

export interface DetectorTopics {
  frames: string;
  anomalies: string;
  alerts: string;
}

export const DETECTOR_GROUP = 'wsn-detector';

export interface DetectorServiceOptions {
  config: Config;
  transport: Transport;
  model: StreamingModel;
  /** Where scores and readings go: InfluxDB, or the in-memory store in embedded mode. */
  sink: ResultSink;
  checkpoints: ClusterCheckpointStore;
  groupId?: string;
  topics?: Partial<DetectorTopics>;
  /** Partitions of `wsn.frames` if this service has to create it (ingest normally does). */
  framePartitions?: number;
  /** Send alerts to Alertmanager (default true; embedded mode may have none). */
  alertmanager?: boolean;
  /** Extra alert routes (tests, embedded views). */
  extraRoutes?: AlertRoute[];
  adjacency?: AdjacencyProvider;
  /** Port of /metrics /healthz /readyz; null = no HTTP server (embedded mode). Default config.detector.httpPort. */
  httpPort?: number | null;
  /**
   * Called once when processing cannot go on whatever is retried (the model
   * does not fit the frames): the caller should stop the service and report it.
   */
  onFatal?(error: UserError): void;
  /** Names this process in logs and the `pipeline` measurement. */
  replicaId?: string;
  logger?: Logger;
  /** Another condition of /readyz: a reason while it is not met (e.g. the topology follower cannot follow), null when it is. */
  notReadyReason?: () => string | null;
}

export interface DetectorService {
  readonly replicaId: string;
  readonly metrics: DetectorMetrics;
  /** Bound port of the ops HTTP server, if any. */
  readonly httpPort: number | undefined;
  readonly processor: FrameProcessor;
  ready(): boolean;
  /** Finishes the batch in flight (writes, alerts, checkpoint, commit), then leaves the group and closes everything. */
  stop(): Promise<void>;
}

/**
 * The streaming detector: a consumer group on `wsn.frames`. Per batch it
 * skips ticks already processed, scores the new frames (clusters ready
 * together share one model call), writes the sinks, publishes scores on
 * `wsn.anomalies`, routes alert transitions, checkpoints the touched
 * clusters and only then lets the transport commit the offsets. After a
 * rebalance it reloads the checkpoints before processing, so a cluster moves
 * between replicas without a lost or duplicated tick.
 */
export async function startDetectorService(options: DetectorServiceOptions): Promise<DetectorService> {
  const { config, transport, model } = options;
  const replicaId = options.replicaId ?? `detector-${randomUUID().slice(0, 8)}`;
  const logger = options.logger ?? createLogger('detector');
  const topics: DetectorTopics = { frames: TOPICS.frames, anomalies: TOPICS.anomalies, alerts: TOPICS.alerts, ...options.topics };
  const groupId = options.groupId ?? DETECTOR_GROUP;
  const metrics = new DetectorMetrics();
  // The user's threshold when set, else the one calibrated and stored with the model.
  const policy = alertPolicyFromConfig(config, model.threshold);
  const processor = new FrameProcessor({ model, policy, adjacency: options.adjacency });

  await transport.ensureTopics([
    { topic: topics.frames, partitions: options.framePartitions ?? FRAME_PARTITIONS },
    { topic: topics.anomalies, partitions: options.framePartitions ?? FRAME_PARTITIONS },
    { topic: topics.alerts, partitions: SIDE_TOPIC_PARTITIONS },
  ]);
  const producer: TransportProducer = await transport.producer();
  const sink = new FanOutSink([options.sink, new AnomalyPublisher(producer, topics.anomalies)]);
  // Alertmanager and webhooks are delivered at least once from the alerts topic (alerts/outbox.ts).
  const receivers: AlertRoute[] = [];
  if (options.alertmanager ?? true) receivers.push(new AlertmanagerRoute({ url: config.alertmanager.url, firingTtlMs: Math.max(5 * 60_000, 3 * config.detector.alertResendMs) }));
  receivers.push(...webhookRoutes(config.webhooks));
  const routes: AlertRoute[] = [new AlertTopicRoute(producer, topics.alerts), ...receivers.map(deliveredByOutbox), ...(options.extraRoutes ?? [])];
  const outbox = await startAlertOutbox({ transport, topic: topics.alerts, routes: receivers, logger, onDelivered: (route, alerts) => metrics.deliveries.inc({ route, outcome: 'ok' }, alerts.length), onFailure: (route, outcome, count) => metrics.deliveries.inc({ route, outcome: outcome === 'retry' ? 'failed' : 'refused' }, count) });
  const router = new AlertRouter({ routes, logger, onDelivery: (route, outcome, count) => metrics.deliveries.inc({ route, outcome }, count) });

  // Rebalance bookkeeping: each assignment bumps the generation; the first
  // batch of a new generation reloads checkpoints and drops clusters of lost partitions.
  let generation = 0;
  let restoredGeneration = -1;
  let owned = new Set<number>();
  const partitionOfCluster = new Map<string, number>();
  let stopping = false;
  let subscribed = false;
  let fatal: UserError | undefined;
  /** Batches run one at a time, whatever the transport does. */
  let queue: Promise<unknown> = Promise.resolve();

  const restore = async (): Promise<void> => {
    const wanted = generation;
    const checkpoints = await options.checkpoints.loadAll();
    for (const cluster of processor.clusters()) {
      const partition = partitionOfCluster.get(cluster);
      if (partition !== undefined && !owned.has(partition)) {
        processor.drop(cluster);
        partitionOfCluster.delete(cluster);
      }
    }
    const { restored, incompatible } = processor.adoptCheckpoints(checkpoints);
    metrics.restores.inc(restored.length);
    if (incompatible.length > 0) logger.warn({ clusters: incompatible }, 'ignoring checkpoints of a model with another shape; those clusters start fresh');
    logger.info({ replica: replicaId, checkpoints: checkpoints.size, replaced: restored.length, partitions: [...owned].sort((a, b) => a - b) }, 'state reloaded after rebalance');
    restoredGeneration = wanted;
  };

  const handleBatch = async (batch: IncomingBatch): Promise<void> => {
    const started = performance.now();
    if (restoredGeneration !== generation) await restore();
    const frames: Frame[] = [];
    const arrivals = new Map<string, number>();
    for (const message of batch.messages) {
      const decoded = decodeFrame(message.value);
      const arrival = Number(message.headers[FIRST_ARRIVAL_HEADER]);
      if (decoded.ok && Number.isFinite(arrival)) arrivals.set(`${decoded.frame.cluster}@${decoded.frame.tick}`, arrival);
      if (!decoded.ok) {
        metrics.frames.inc({ outcome: 'invalid' });
        logger.warn({ topic: batch.topic, partition: batch.partition, offset: message.offset, reason: decoded.reason }, 'skipping an invalid frame');
        continue;
      }
      partitionOfCluster.set(decoded.frame.cluster, batch.partition);
      frames.push(decoded.frame);
    }
    const result = await processor.process(frames);
    const scoredAt = Date.now();
    try {
      const newestTick = result.frames.reduce((max, frame) => Math.max(max, frame.tick), Number.NEGATIVE_INFINITY);
      const batchMs = performance.now() - started;
      await sink.write({
        frames: result.frames,
        scores: result.scores,
        alerts: result.alerts,
        pipeline:
          result.frames.length > 0
            ? {
                network: result.frames[0].network,
                source: replicaId,
                time: newestTick,
                frames: result.frames.length,
                skippedFrames: result.skipped,
                clusters: result.clusters.length,
                batchMs,
                modelMs: result.modelMs,
                framesPerSecond: batchMs > 0 ? (result.frames.length * 1000) / batchMs : 0,
                eventLagMs: Date.now() - newestTick,
              }
            : undefined,
      });
      await router.route(result.alerts);
      observeLatency(metrics, config.ingest.tickMs, result, arrivals, scoredAt, Date.now());
      await options.checkpoints.save(result.clusters.map((cluster) => processor.checkpoint(cluster)));
      if (result.frames.length > 0) metrics.eventLag.set((Date.now() - newestTick) / 1000);
    } catch (error) {
      result.rollback();
      throw error;
    }
    metrics.frames.inc({ outcome: 'processed' }, result.frames.length);
    metrics.frames.inc({ outcome: 'skipped' }, result.skipped);
    for (const call of result.modelCalls) {
      metrics.batchClusters.observe(call.clusters);
      metrics.modelSeconds.observe(call.ms / 1000);
    }
    for (const alert of result.alerts) metrics.alerts.inc({ kind: alert.kind, status: alert.status });
    metrics.clusters.set(processor.clusters().length);
    metrics.firing.set(processor.firingAlerts().length);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    for (const alert of result.alerts) logger.info({ alert: alert.id, kind: alert.kind, status: alert.status, modality: alert.modality, probability: alert.probability }, `alert ${alert.status}`);
    logger.debug({ partition: batch.partition, frames: result.frames.length, skipped: result.skipped, modelCalls: result.modelCalls.length }, 'batch done');
  };

  const subscription: Subscription = await transport.subscribe({
    groupId,
    topics: [topics.frames],
    fromBeginning: true,
    onAssignment: (assignment) => {
      owned = new Set(assignment[topics.frames] ?? []);
      generation += 1;
    },
    onBatch: (batch) => {
      const run = queue.then(() => handleBatch(batch));
      queue = run.catch(() => undefined);
      return run.catch((error: unknown) => {
        metrics.batchFailures.inc();
        if (error instanceof UserError && !fatal) {
          fatal = error;
          logger.error({ code: error.code, err: error.message }, 'cannot process frames');
          options.onFatal?.(error);
        }
        throw error;
      });
    },
  });
  subscribed = true;
  router.startResending(config.detector.alertResendMs, () => processor.firingAlerts());

  let ops: OpsServer | undefined;
  const httpPort = options.httpPort === undefined ? config.detector.httpPort : options.httpPort;
  const dependenciesReady = readinessLogger(options.notReadyReason, logger);
  if (httpPort !== null) ops = await startOpsServer({ port: httpPort, host: config.ops.host, registry: metrics.registry, ready: () => subscribed && !stopping && !fatal && dependenciesReady(), problems: () => transport.health?.() ?? [] });
  logger.info({ replica: replicaId, group: groupId, topic: topics.frames, httpPort: ops?.port, routes: routes.map((r) => r.name), sink: options.sink.name }, 'detector started');

  let stopped: Promise<void> | undefined;
  return {
    replicaId,
    metrics,
    processor,
    httpPort: ops?.port,
    ready: () => subscribed && !stopping && !fatal && dependenciesReady(),
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        logger.info({ replica: replicaId }, 'stopping: finishing the current batch');
        const timed = async (step: string, run: () => Promise<unknown>): Promise<void> => {
          const began = performance.now();
          await run();
          logger.debug({ step, ms: Math.round(performance.now() - began) }, 'shutdown step done');
        };
        await timed('leave the consumer group', () => subscription.close());
        await timed('finish the batch in flight', () => queue);
        await timed('stop alert re-sends', () => router.stopResending());
        await timed('stop the alert outbox', () => outbox.close());
        await timed('close sinks', () => sink.close());
        await timed('close the producer', () => producer.close());
        await timed('close the checkpoint store', () => options.checkpoints.close());
        await timed('close the ops server', async () => ops?.close());
        logger.info({ replica: replicaId }, 'detector stopped');
      })();
      return stopped;
    },
  };
}

/** Latency histograms of one batch: tick close → score, → alert, and first reading arrival → score. */
function observeLatency(
  metrics: DetectorMetrics,
  tickMs: number,
  result: { scores: Array<{ cluster: string; tick: number }>; alerts: Array<{ cluster: string }>; frames: Frame[] },
  arrivals: ReadonlyMap<string, number>,
  scoredAt: number,
  alertedAt: number,
): void {
  for (const score of result.scores) {
    metrics.tickCloseToScore.observe(Math.max(0, scoredAt - (score.tick + tickMs)) / 1000);
    const arrival = arrivals.get(`${score.cluster}@${score.tick}`);
    if (arrival !== undefined) metrics.arrivalToScore.observe(Math.max(0, scoredAt - arrival) / 1000);
  }
  if (result.alerts.length === 0) return;
  // An alert changes on its cluster's newest tick of the batch.
  const newest = new Map<string, number>();
  for (const frame of result.frames) newest.set(frame.cluster, Math.max(newest.get(frame.cluster) ?? Number.NEGATIVE_INFINITY, frame.tick));
  for (const alert of result.alerts) {
    const tick = newest.get(alert.cluster);
    if (tick !== undefined) metrics.tickCloseToAlert.observe(Math.max(0, alertedAt - (tick + tickMs)) / 1000);
  }
}
