import { FRAME_PARTITIONS, SIDE_TOPIC_PARTITIONS } from '../../common/constants.ts';
import { randomUUID } from 'node:crypto';
import type { Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { readinessLogger, startOpsServer, type OpsServer } from '../../common/http.ts';
import { createLogger, type Logger } from '../../common/log.ts';
import type { IncomingBatch, Subscription, Transport, TransportProducer } from '../../common/transport.ts';
import { stopDeadline } from '../../transport/stop-deadline.ts';
import { TOPICS, type Alert } from '../../common/types.ts';
import { AlertmanagerRoute } from '../alerts/alertmanager.ts';
import type { AlertRoute } from '../alerts/route.ts';
import { AlertRouter } from '../alerts/router.ts';
import { deliveredByOutbox, startAlertOutbox, webhookRoutes, type AlertOutbox } from '../alerts/outbox.ts';
import { AlertTopicRoute } from '../alerts/topic.ts';
import { alertPolicyFromConfig, type AlertPolicy } from '../alerts/tracker.ts';
import { budgetPriorOf } from '../alerts/false-alert-budget.ts';
import type { TopologyChangeSource } from '../alerts/topology-changes.ts';
import { AnomalyPublisher } from '../../store/anomalies.ts';
import { FanOutSink } from '../../store/fan-out.ts';
import type { ResultSink } from '../../store/sink.ts';
import type { ClusterCheckpointStore } from '../state/store.ts';
import { followSilences, type FollowedSilences } from '../silences/follow.ts';
import { followFeedback, type FollowedFeedback } from '../feedback/follow.ts';
import { processBatches, type BatchContext } from './batch.ts';
import { BatchCoalescer } from './batch-coalescer.ts';
import { TickGather } from './tick-gather.ts';
import { CheckpointCadence } from './checkpoint-cadence.ts';
import { DetectorMetrics } from './metrics.ts';
import { ClusterOwnership } from './ownership.ts';
import type { StreamingModel } from './model.ts';
import { FrameProcessor, type AdjacencyProvider } from './processor.ts';
import { defaultWarmupTicks, type ModelSlot, type SwapPlan } from './model-swap.ts';
import { shadowAlertCounter } from './shadow.ts';

export interface DetectorTopics {
  frames: string;
  anomalies: string;
  alerts: string;
}

export const DETECTOR_GROUP = 'wsn-detector';

/**
 * Most bytes of a frames partition in one fetch, and of all partitions (Kafka's defaults are 1 MiB and 10 MiB): a
 * fetch that stops short of a partition's end is not waited on for the rest of its tick (tick-gather.ts).
 */
const FRAME_FETCH_BYTES = { perPartition: 8 * 1024 * 1024, total: 64 * 1024 * 1024 };

export interface DetectorServiceOptions {
  config: Config;
  transport: Transport;
  model: StreamingModel;
  /** The model's version label on every score: a registry version, or the folder of a pinned model. */
  modelVersion?: string;
  /** Frees the model when a promoted version replaces it, or when the processor is disposed. */
  disposeModel?(): void;
  /** A candidate version to shadow-score from the first frame (shadow.ts); `promote`'s sibling `shadow` changes it later. */
  shadow?: ModelSlot;
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
  /** The followed topology's moves and placements, for the `topology` alerts (without it: added and removed only). */
  topologyChanges?: TopologyChangeSource;
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
  /** Follow the maintenance silences (config.silences.topic) and gate alerts by them (default true). */
  silences?: boolean;
  /** Follow the operator feedback (config.feedback.topic) and raise the thresholds of false alarms' nodes (default true). */
  feedback?: boolean;
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
  /**
   * Swaps to a newly promoted version between batches: it warms up beside the
   * current one for `registry.warmupTicks` (0: its own window / context
   * warm-up) and takes over at one tick (model-swap.ts).
   */
  promote(slot: ModelSlot): Promise<SwapPlan>;
  /** Shadow-scores a candidate version beside the live one from the next batch (undefined: stops it; shadow.ts). */
  shadow(slot: ModelSlot | undefined): Promise<void>;
  /** Finishes the batch in flight (writes, alerts, checkpoint, commit), then leaves the group and closes everything. */
  stop(): Promise<void>;
}

/**
 * The streaming detector: a consumer group on `wsn.frames`. Per batch it
 * skips ticks already processed, scores the new frames (clusters ready
 * together share one model call), writes the sinks, publishes scores on
 * `wsn.anomalies`, routes alert transitions; every
 * `detector.checkpointIntervalMs` it checkpoints a partition's touched clusters
 * and only then lets the transport commit the partition's offset. After a
 * rebalance it reloads the checkpoints before processing, so a cluster moves
 * between replicas without a lost or duplicated tick.
 */
/** The topics the detector reads and writes: the design's names unless the caller overrides them. */
function detectorTopics(options: DetectorServiceOptions): DetectorTopics {
  return { frames: TOPICS.frames, anomalies: TOPICS.anomalies, alerts: TOPICS.alerts, ...options.topics };
}

/** Who owns which cluster's state (rebalances), and when it is written (checkpoint cadence). */
function stateKeeping(
  options: DetectorServiceOptions,
  processor: FrameProcessor,
  metrics: DetectorMetrics,
  logger: Logger,
  replicaId: string,
): { ownership: ClusterOwnership; cadence: CheckpointCadence } {
  const { checkpoints, transport } = options;
  const frames = detectorTopics(options).frames;
  return {
    ownership: new ClusterOwnership({
      processor,
      checkpoints,
      metrics,
      logger,
      replicaId,
      framePartitions: () => transport.topicPartitions(frames),
    }),
    cadence: new CheckpointCadence({
      intervalMs: options.config.detector.checkpointIntervalMs,
      checkpoints,
      processor,
      metrics,
      logger,
    }),
  };
}

/** Consumes the frames topic into the service's batch queue. */
function subscribeFrames(
  transport: Transport,
  groupId: string,
  topic: string,
  service: RunningDetector,
  context: BatchContext,
): Promise<Subscription> {
  const coalescer = new BatchCoalescer(
    (job) => service.enqueue(job),
    (batches: IncomingBatch[], more: () => IncomingBatch[]) => processBatches(context, batches, more),
  );
  return transport.subscribe({
    groupId,
    topics: [topic],
    fromBeginning: true,
    onAssignment: (assignment) => context.ownership.assigned(assignment[topic] ?? []),
    // Partitions handed over together share a run: at a tick's close one model call scores many partitions' clusters.
    concurrentPartitions: FRAME_PARTITIONS,
    // A tick's frames in one fetch: about 1.2 MB per partition at 100,000 nodes on 12 partitions, 14 MB in all.
    maxBytesPerPartition: FRAME_FETCH_BYTES.perPartition,
    maxBytes: FRAME_FETCH_BYTES.total,
    onBatch: (batch) => coalescer.add(batch),
  });
}

export async function startDetectorService(options: DetectorServiceOptions): Promise<DetectorService> {
  const { config, transport } = options;
  const replicaId = options.replicaId ?? `detector-${randomUUID().slice(0, 8)}`;
  const logger = options.logger ?? createLogger('detector');
  const topics = detectorTopics(options);
  const groupId = options.groupId ?? DETECTOR_GROUP;
  const metrics = new DetectorMetrics();
  options.sink.onRefused?.((points) => metrics.sinkRefused.inc(points));
  // The user's threshold when set, else the one calibrated and stored with the model.
  const policy = alertPolicyFromConfig(config, options.model.threshold, budgetPriorOf(options.model));
  const processor = createProcessor(options, policy);

  await transport.ensureTopics([
    { topic: topics.frames, partitions: options.framePartitions ?? FRAME_PARTITIONS },
    { topic: topics.anomalies, partitions: options.framePartitions ?? FRAME_PARTITIONS },
    { topic: topics.alerts, partitions: SIDE_TOPIC_PARTITIONS },
  ]);
  const alerting = await startAlerting(options, topics, metrics, logger);
  const silences = await startSilences(options, metrics, logger);
  const feedback = await startFeedback(options, policy, metrics, logger);
  const { ownership, cadence } = stateKeeping(options, processor, metrics, logger, replicaId);
  const context: BatchContext = {
    replicaId,
    tickMs: config.ingest.tickMs,
    processor,
    ownership,
    sink: alerting.sink,
    router: alerting.router,
    silences: silences?.gate,
    cadence,
    maxFramesPerRun: config.detector.maxFramesPerRun,
    gather: new TickGather(config.detector.gatherMs, config.ingest.tickMs),
    metrics,
    shadowAlerts: shadowAlertCounter(metrics.registry),
    logger,
  };
  const service = new RunningDetector({
    replicaId,
    metrics,
    processor,
    logger,
    alerting,
    silences,
    feedback,
    checkpoints: options.checkpoints,
    cadence,
    onFatal: options.onFatal,
    dependenciesReady: readinessLogger(options.notReadyReason, logger),
    warmupTicks: config.registry.warmupTicks,
    transport,
    stopTimeoutMs: config.kafka.stopTimeoutMs,
  });

  service.subscribed(await subscribeFrames(transport, groupId, topics.frames, service, context));
  alerting.router.startResending(config.detector.alertResendMs, () => resendable(processor, silences));

  const httpPort = options.httpPort === undefined ? config.detector.httpPort : options.httpPort;
  if (httpPort !== null)
    service.serving(
      await startOpsServer({
        port: httpPort,
        host: config.ops.host,
        registry: metrics.registry,
        ready: () => service.ready(),
        problems: () => transport.health?.() ?? [],
      }),
    );
  logger.info(
    {
      replica: replicaId,
      group: groupId,
      topic: topics.frames,
      httpPort: service.httpPort,
      routes: alerting.routes.map((r) => r.name),
      sink: options.sink.name,
    },
    'detector started',
  );
  return service;
}

function createProcessor(options: DetectorServiceOptions, policy: AlertPolicy): FrameProcessor {
  const { config, model } = options;
  const processor = new FrameProcessor({
    model,
    policy,
    adjacency: options.adjacency,
    version: options.modelVersion,
    disposeModel: options.disposeModel,
    tickMs: config.ingest.tickMs,
    topologyChanges: options.topologyChanges,
    topologyAlertMs: config.detector.topologyAlertMs,
  });
  if (options.shadow) processor.shadowWith(options.shadow);
  return processor;
}

/** Follows the silences topic unless told not to; mirrors it to Alertmanager when alerts go there. */
async function startSilences(
  options: DetectorServiceOptions,
  metrics: DetectorMetrics,
  logger: Logger,
): Promise<FollowedSilences | undefined> {
  if (!(options.silences ?? true)) return undefined;
  return followSilences({
    transport: options.transport,
    settings: options.config.silences,
    alertmanagerUrl: (options.alertmanager ?? true) ? options.config.alertmanager.url : undefined,
    logger,
    onActive: (count) => metrics.silencesActive.set(count),
  });
}

/** Follows the feedback topic unless told not to: false alarms raise their nodes' thresholds in `policy`. */
async function startFeedback(
  options: DetectorServiceOptions,
  policy: AlertPolicy,
  metrics: DetectorMetrics,
  logger: Logger,
): Promise<FollowedFeedback | undefined> {
  if (!(options.feedback ?? true)) return undefined;
  const feedback = await followFeedback({
    transport: options.transport,
    settings: options.config.feedback,
    logger,
    onRaises: (raises) => {
      metrics.feedbackRaises.set(raises.length);
      metrics.nodeThreshold.reset();
      for (const raise of raises)
        metrics.nodeThreshold.set(
          { network: raise.network, node: raise.node, modality: raise.modality ?? '*' },
          raise.threshold,
        );
    },
  });
  raiseByFeedback(policy, feedback);
  if (options.shadow) raiseByFeedback(options.shadow.policy, feedback);
  return feedback;
}

/** False alarms raise their nodes' thresholds in `policy` (also a promoted model version's policy). */
function raiseByFeedback(policy: AlertPolicy, feedback: FollowedFeedback): void {
  // The tracker asks at every tick, so a mark applies from the next tick the detector processes.
  policy.nodeThreshold = (network, node, modality) => feedback.thresholdFor(policy.threshold, network, node, modality);
}

/** The firing alerts to re-send: alerts held back by a silence are not re-sent either. */
function resendable(processor: FrameProcessor, silences: FollowedSilences | undefined): Alert[] {
  const firing = processor.firingAlerts();
  return silences ? silences.gate.visible(firing, Date.now()) : firing;
}

/** Where scores and alerts go: the sinks plus `wsn.anomalies`, and the alert routes. */
interface Alerting {
  producer: TransportProducer;
  sink: ResultSink;
  routes: AlertRoute[];
  outbox: AlertOutbox;
  router: AlertRouter;
}

async function startAlerting(
  options: DetectorServiceOptions,
  topics: DetectorTopics,
  metrics: DetectorMetrics,
  logger: Logger,
): Promise<Alerting> {
  const { config, transport } = options;
  const producer: TransportProducer = await transport.producer();
  const sink = new FanOutSink([options.sink, new AnomalyPublisher(producer, topics.anomalies)]);
  // Alertmanager and webhooks are delivered at least once from the alerts topic (alerts/outbox.ts).
  const receivers: AlertRoute[] = [];
  if (options.alertmanager ?? true)
    receivers.push(
      new AlertmanagerRoute({
        url: config.alertmanager.url,
        firingTtlMs: Math.max(5 * 60_000, 3 * config.detector.alertResendMs),
      }),
    );
  receivers.push(...webhookRoutes(config.webhooks));
  const routes: AlertRoute[] = [
    new AlertTopicRoute(producer, topics.alerts),
    ...receivers.map(deliveredByOutbox),
    ...(options.extraRoutes ?? []),
  ];
  const outbox = await startAlertOutbox({
    transport,
    topic: topics.alerts,
    routes: receivers,
    logger,
    onDelivered: (route, alerts) => metrics.deliveries.inc({ route, outcome: 'ok' }, alerts.length),
    onFailure: (route, outcome, count) =>
      metrics.deliveries.inc({ route, outcome: outcome === 'retry' ? 'failed' : 'refused' }, count),
  });
  const router = new AlertRouter({
    routes,
    logger,
    onDelivery: (route, outcome, count) => metrics.deliveries.inc({ route, outcome }, count),
  });
  return { producer, sink, routes, outbox, router };
}

interface RunningDetectorParts {
  replicaId: string;
  metrics: DetectorMetrics;
  processor: FrameProcessor;
  logger: Logger;
  alerting: Alerting;
  silences?: FollowedSilences;
  feedback?: FollowedFeedback;
  checkpoints: ClusterCheckpointStore;
  cadence: CheckpointCadence;
  onFatal?(error: UserError): void;
  /** The caller's extra readiness condition (logs its changes). */
  dependenciesReady(): boolean;
  /** registry.warmupTicks: 0 = the promoted model's own warm-up. */
  warmupTicks: number;
  /** Told to stop retrying once a stop has waited kafka.stopTimeoutMs for Kafka. */
  transport: Transport;
  stopTimeoutMs: number;
}

/** The detector once started: runs batches one at a time, answers readiness, and stops in order. */
class RunningDetector implements DetectorService {
  readonly replicaId: string;
  readonly metrics: DetectorMetrics;
  readonly processor: FrameProcessor;
  private subscription: Subscription | undefined;
  private ops: OpsServer | undefined;
  private stopping = false;
  private fatal: UserError | undefined;
  /** Batches run one at a time, whatever the transport does. */
  private queue: Promise<unknown> = Promise.resolve();
  private stopped: Promise<void> | undefined;

  constructor(private readonly parts: RunningDetectorParts) {
    this.replicaId = parts.replicaId;
    this.metrics = parts.metrics;
    this.processor = parts.processor;
  }

  get httpPort(): number | undefined {
    return this.ops?.port;
  }

  subscribed(subscription: Subscription): void {
    this.subscription = subscription;
  }

  serving(ops: OpsServer): void {
    this.ops = ops;
  }

  ready = (): boolean =>
    this.subscription !== undefined && !this.stopping && !this.fatal && this.parts.dependenciesReady();

  /** Runs a batch after the ones before it; the first UserError is fatal (reported once to onFatal). */
  enqueue<T>(handle: () => Promise<T>): Promise<T> {
    const run = this.queue.then(handle);
    this.queue = run.catch(() => undefined);
    return run.catch((error: unknown) => {
      this.metrics.batchFailures.inc();
      if (error instanceof UserError && !this.fatal) {
        this.fatal = error;
        this.parts.logger.error({ code: error.code, err: error.message }, 'cannot process frames');
        this.parts.onFatal?.(error);
      }
      throw error;
    });
  }

  promote = async (slot: ModelSlot): Promise<SwapPlan> => {
    const warmupTicks = this.parts.warmupTicks || defaultWarmupTicks(slot.model);
    if (this.parts.feedback) raiseByFeedback(slot.policy, this.parts.feedback);
    let plan: SwapPlan = { kind: 'unchanged' };
    // On the batch queue: a swap is planned between batches, never inside one.
    await this.enqueue(async () => {
      plan = this.processor.promote(slot, warmupTicks);
    });
    logPlan(this.parts.logger, plan, this.processor.swapInProgress()?.to.version ?? '', warmupTicks);
    return plan;
  };

  shadow = async (slot: ModelSlot | undefined): Promise<void> => {
    if (slot && this.parts.feedback) raiseByFeedback(slot.policy, this.parts.feedback);
    const before = this.processor.shadowVersion;
    await this.enqueue(async () => this.processor.shadowWith(slot));
    if (slot)
      this.parts.logger.info(
        { version: slot.version, threshold: slot.policy.threshold, replacing: before },
        `model ${slot.version} shadow-scored beside ${this.processor.modelVersion} (threshold ${slot.policy.threshold}); its verdicts go to the shadow measurement only`,
      );
    else if (before) this.parts.logger.info({ version: before }, `shadow scoring of model ${before} stopped`);
  };

  stop = (): Promise<void> => {
    this.stopped ??= this.shutDown();
    return this.stopped;
  };

  private async shutDown(): Promise<void> {
    const { logger, alerting } = this.parts;
    this.stopping = true;
    logger.info({ replica: this.replicaId }, 'stopping: finishing the current batch');
    // Kafka down (or a topic deleted) would hold the writes below for ever: past the timeout they are given up.
    const deadline = stopDeadline(this.parts.transport, this.parts.stopTimeoutMs, logger);
    const timed = async (step: string, run: () => Promise<unknown>): Promise<void> => {
      const began = performance.now();
      await run();
      logger.debug({ step, ms: Math.round(performance.now() - began) }, 'shutdown step done');
    };
    try {
      // While this replica still owns its partitions: a restart then replays nothing it scored.
      await timed('write the pending checkpoints', () =>
        this.enqueue(() => this.parts.cadence.flushAll()).catch((error: unknown) =>
          logger.warn(
            { err: error },
            'pending checkpoints not written; a restart replays the frames since the last one',
          ),
        ),
      );
      await timed('leave the consumer group', async () => this.subscription?.close());
      await timed('finish the batch in flight', () => this.queue);
      await timed('stop alert re-sends', () => alerting.router.stopResending());
      await timed('stop the alert outbox', () => alerting.outbox.close());
      await timed('close sinks', () => alerting.sink.close());
      await timed('close the producer', () => alerting.producer.close());
      await timed('close the checkpoint store', () => this.parts.checkpoints.close());
      await timed('stop following the silences', async () => this.parts.silences?.close());
      await timed('stop following the feedback', async () => this.parts.feedback?.close());
      await timed('close the ops server', async () => this.ops?.close());
    } finally {
      deadline.clear();
    }
    logger.info({ replica: this.replicaId }, 'detector stopped');
  }
}

/** The log line of a promotion handed to the processor. */
/** `swapping`: the version a swap in progress goes to (what a queued promotion waits for). */
function logPlan(logger: Logger, plan: SwapPlan, swapping: string, warmupTicks: number): void {
  if (plan.kind === 'immediate')
    logger.info(
      { from: plan.from.version, to: plan.to.version, threshold: plan.to.policy.threshold },
      `model swapped from ${plan.from.version} to ${plan.to.version} before any tick was scored; ${plan.to.thresholdNote ?? `alert threshold ${plan.to.policy.threshold}`}`,
    );
  else if (plan.kind === 'scheduled') {
    const { swap } = plan;
    logger.info(
      {
        from: swap.from.version,
        to: swap.to.version,
        warmupTicks,
        startTick: new Date(swap.startTick).toISOString(),
        switchTick: new Date(swap.switchTick).toISOString(),
      },
      `model ${swap.to.version} warming up beside ${swap.from.version} for ${warmupTicks} ticks; it scores from tick ${new Date(swap.switchTick).toISOString()}`,
    );
  } else if (plan.kind === 'queued')
    logger.info({ to: plan.to.version }, `model ${plan.to.version} will follow once the swap to ${swapping} is done`);
}
