import type { Counter } from 'prom-client';
import type { Logger } from '../../common/log.ts';
import type { BatchAgain, BatchCommit, IncomingBatch } from '../../common/transport.ts';
import type { Alert, Frame } from '../../common/types.ts';
import { FIRST_ARRIVAL_HEADER, TICK_HEADER } from '../../ingest/pipeline.ts';
import type { ResultSink } from '../../store/sink.ts';
import type { AlertRouter } from '../alerts/router.ts';
import type { GateOutcome, SilenceGate } from '../silences/gate.ts';
import type { CheckpointCadence } from './checkpoint-cadence.ts';
import { decodeFrame } from './frames.ts';
import type { DetectorMetrics } from './metrics.ts';
import type { ClusterOwnership } from './ownership.ts';
import type { FrameProcessor, ProcessResult } from './processor.ts';
import { gateShadowStarts } from './shadow.ts';
import type { FrameKey, TickGather } from './tick-gather.ts';

export interface BatchContext {
  replicaId: string;
  tickMs: number;
  processor: FrameProcessor;
  ownership: ClusterOwnership;
  /** The configured sink fanned out with the `wsn.anomalies` publisher. */
  sink: ResultSink;
  router: AlertRouter;
  /** Maintenance silences between the alert tracker and the routes; absent = no silences. */
  silences?: SilenceGate;
  /** When the touched clusters are checkpointed and the partition's offset committed. */
  cadence: CheckpointCadence;
  /** Most frames scored and delivered as one run (config detector.maxFramesPerRun). */
  maxFramesPerRun: number;
  /** How long a hand-over waits for the rest of a tick's frames (config detector.gatherMs). */
  gather: TickGather;
  metrics: DetectorMetrics;
  /** Anomaly alerts a shadowing candidate opened, per version (shadow.ts). */
  shadowAlerts?: Counter<'model'>;
  logger: Logger;
}

/**
 * Batches of frames (one or more partitions', handed over together): reload
 * state after a rebalance. If their newest tick lacks the frame of a cluster
 * scored at the tick before, wait for it (TickGather): take the batches
 * another fetch hands over meanwhile (`more`), or answer every batch `again`,
 * so that the consumer fetches them again with what came since. Then in runs
 * of at most `maxFramesPerRun` frames
 * score the new frames (the partitions' clusters share the model calls),
 * write the sinks and route alert transitions. A run is scored while the run
 * before it is delivered, unless they share a cluster; one delivery is under
 * way at a time, in run order. If a run fails, its state is rolled back, the
 * run scored beside its delivery too, and every batch is delivered again:
 * the frames of the runs delivered before it are then skipped as already
 * scored. Then each partition's
 * touched clusters join its pending checkpoints, which are written (and its
 * offset committed) once the checkpoint interval is over. Between runs and
 * between checkpoint requests the consumer's heartbeat goes out. The answers
 * are in the order of `batches`.
 */
export async function processBatches(
  context: BatchContext,
  handedOver: readonly IncomingBatch[],
  more: () => IncomingBatch[] = () => [],
): Promise<Array<void | BatchCommit | BatchAgain>> {
  settleModelSwap(context);
  const batches = [...handedOver];
  const keepAlive = keepAliveOf(batches, context.logger);
  // After a rebalance every checkpoint of the state topic is read again (about 2,000 of 600 KB at 100,000 nodes):
  // longer than a session, and a replica expelled meanwhile would rejoin, read them again, and never catch up.
  await whileBeating(keepAlive, () => context.ownership.restoreIfReassigned());
  // The wait is decided on the messages' keys and tick headers: a hand-over answered "again" is fetched and looked at
  // again, and decoding its frames on every look would be work thrown away.
  const keys = batches.flatMap(frameKeysOf);
  // A batch that stopped short of its partition's end (a backlog) would come again just as short: no wait then.
  while (!batches.some(isShort)) {
    const { waitMs, missing } = context.gather.verdict(keys, (tick) => context.processor.clustersAt(tick));
    if (waitMs === 0) {
      if (missing > 0) context.metrics.tickGather.inc({ outcome: 'incomplete' });
      break;
    }
    await sleep(waitMs);
    await keepAlive();
    // Batches another fetch handed over meanwhile join; this fetch's consumer fetches no more until it is answered.
    const taken = more();
    if (taken.length === 0) {
      context.metrics.tickGather.inc({ outcome: 'again' });
      return batches.map(() => AGAIN);
    }
    context.metrics.tickGather.inc({ outcome: 'taken' });
    batches.push(...taken);
    keys.push(...taken.flatMap(frameKeysOf));
  }
  const decoded = batches.map((batch) => decodeBatch(context, batch));
  const handedOverAt = Date.now();
  const timer = context.metrics.handOverSeconds.startTimer();
  try {
    return await workHandOver(context, batches, decoded, handedOverAt, keepAlive);
  } finally {
    timer();
  }
}

const AGAIN: BatchAgain = { again: true };

/** Whether a batch ends before the end its partition had when it was fetched. */
function isShort(batch: IncomingBatch): boolean {
  if (batch.highWatermark === undefined || batch.messages.length === 0) return false;
  return BigInt(batch.messages[batch.messages.length - 1].offset) + 1n < BigInt(batch.highWatermark);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Scores, delivers and checkpoints the frames of one hand-over (processBatches). */
async function workHandOver(
  context: BatchContext,
  batches: readonly IncomingBatch[],
  decoded: readonly DecodedBatch[],
  handOverAt: number,
  keepAlive: () => Promise<void>,
): Promise<Array<void | BatchCommit>> {
  for (const [i, batch] of decoded.entries()) reportInvalid(context, batches[i], batch.invalid);
  const handOver: HandOver = { at: handOverAt, timing: new Map(decoded.flatMap((batch) => [...batch.timing])) };
  context.metrics.handOverFrames.observe(decoded.reduce((n, batch) => n + batch.frames.length, 0));
  const touched = new Set<string>();
  // The run whose delivery is under way, if any.
  let delivering: Delivery | undefined;
  const delivered = async (): Promise<void> => {
    if (!delivering) return;
    const run = delivering;
    delivering = undefined;
    const outcome = await run.outcome;
    if (!outcome.ok) throw outcome.error;
    for (const cluster of outcome.clusters) touched.add(cluster);
  };
  try {
    for (const [i, frames] of framesInRuns(
      decoded.flatMap((batch) => batch.frames),
      context.maxFramesPerRun,
    ).entries()) {
      if (i > 0) await keepAlive();
      // A cluster of the run being delivered waits for it: its state can be rolled back one run at a time.
      if (delivering && frames.some((frame) => delivering?.clusters.has(frame.cluster))) await delivered();
      const scored = await scoreRun(context, frames, delivering !== undefined);
      try {
        await delivered();
      } catch (error) {
        // The run before failed: this one, scored beside its delivery, goes back too and comes again with it.
        scored.result.rollback();
        throw error;
      }
      delivering = deliverRun(context, batches, scored, handOver);
    }
    await delivered();
  } catch (error) {
    // A run that failed to score leaves the delivery under way to finish first (or fail and roll back).
    await delivered().catch(() => undefined);
    // The runs before the failed one were delivered and their clusters moved on: they wait for their checkpoint like
    // any touched cluster, so that no commit passes their frames before they are saved.
    for (const [i, batch] of batches.entries())
      context.cadence.touch(batch.partition, clustersOf(decoded[i].frames, touched));
    throw error;
  }
  const commits: Array<void | BatchCommit> = [];
  for (const [i, batch] of batches.entries()) {
    await keepAlive();
    const checkpointed = await context.cadence.afterBatch(
      batch.partition,
      clustersOf(decoded[i].frames, touched),
      keepAlive,
    );
    // Until the touched clusters are checkpointed, the partition's offset stays at the last checkpoint.
    commits.push(checkpointed ? undefined : { commitOffset: null });
  }
  return commits;
}

/**
 * What keeps this member in its consumer group while one hand-over is worked on. At scale its runs and checkpoints
 * together can outlast the group's session timeout; Kafka would then give the partitions to another member and
 * deliver the frames again. The batches of a hand-over come from one consumer, so one heartbeat serves them all. A
 * heartbeat that fails (the group is rebalancing) is logged once and the work goes on: the commit at the end then
 * fails and the frames come again, as they would have anyway.
 */
function keepAliveOf(batches: readonly IncomingBatch[], logger: Logger): () => Promise<void> {
  const heartbeat = batches.find((batch) => batch.heartbeat)?.heartbeat;
  let failed = false;
  return async () => {
    if (!heartbeat || failed) return;
    try {
      await heartbeat();
    } catch (error) {
      failed = true;
      logger.warn({ err: error }, 'heartbeat failed during a hand-over; its frames may be delivered again');
    }
  };
}

/** How often a long wait of a hand-over (the restore after a rebalance) sends a heartbeat, ms. */
export const HEARTBEAT_EVERY_MS = 1_000;

/** Runs `work`, sending heartbeats every HEARTBEAT_EVERY_MS while it waits on I/O. */
async function whileBeating<T>(keepAlive: () => Promise<void>, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => void keepAlive(), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** The frames in runs of at most `max`, in order (a cluster's frames stay in tick order across runs). */
export function framesInRuns(frames: readonly Frame[], max: number): Frame[][] {
  const runs: Frame[][] = [];
  for (let from = 0; from < frames.length; from += max) runs.push(frames.slice(from, from + max));
  return runs;
}

/** The distinct clusters of `frames` that are in `touched`. */
function clustersOf(frames: readonly Frame[], touched: ReadonlySet<string>): string[] {
  return [...new Set(frames.map((frame) => frame.cluster))].filter((cluster) => touched.has(cluster));
}

/** A run scored, not yet delivered: when it started and when its scores were ready. */
interface ScoredRun {
  result: ProcessResult;
  started: number;
  scoredAt: number;
}

/**
 * A run's delivery under way: the clusters it holds back, and how it ended. The outcome never rejects: the next run is
 * scored meanwhile, and a rejection not awaited yet would be unhandled.
 */
interface Delivery {
  clusters: ReadonlySet<string>;
  outcome: Promise<{ ok: true; clusters: string[] } | { ok: false; error: unknown }>;
}

/** Scores one run of frames; `besideDelivery`: the run before is still being delivered (it keeps its rollback). */
async function scoreRun(context: BatchContext, frames: Frame[], besideDelivery: boolean): Promise<ScoredRun> {
  const started = performance.now();
  const result = await context.processor.process(frames, { besideUnsettled: besideDelivery });
  return { result, started, scoredAt: Date.now() };
}

/** Starts delivering a scored run (deliverScored); the silences gate it first, after the run before is delivered. */
function deliverRun(
  context: BatchContext,
  batches: readonly IncomingBatch[],
  scored: ScoredRun,
  handOver: HandOver,
): Delivery {
  return {
    clusters: new Set(scored.result.clusters),
    outcome: deliverScored(context, batches, scored, handOver).then(
      (clusters) => ({ ok: true as const, clusters }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
  };
}

/**
 * Delivers one scored run: silences, sinks, then alerts. If delivery fails the run's state is rolled back and the
 * error thrown. Returns the clusters the run moved on.
 */
async function deliverScored(
  context: BatchContext,
  batches: readonly IncomingBatch[],
  { result, started, scoredAt }: ScoredRun,
  handOver: HandOver,
): Promise<string[]> {
  // The gate's state is the replica's: it gates this run once the run before is delivered and its gate committed.
  const gated = gateBySilences(context, result);
  const shadowStarted = gateShadow(context, result);
  try {
    // A run whose frames were all scored before (a hand-over delivered again) has nothing to write.
    if (result.frames.length > 0 || result.alerts.length > 0)
      await deliver(context, result, handOver, started, scoredAt);
  } catch (error) {
    result.rollback();
    throw error;
  }
  result.settle();
  if (gated) recordSuppressed(context, gated);
  const shadowVersion = context.processor.shadowVersion;
  if (shadowVersion && shadowStarted.length > 0)
    context.shadowAlerts?.inc({ model: shadowVersion }, shadowStarted.length);
  logSwitches(context, result);
  recordBatch(context, batches, result, started);
  return result.clusters;
}

/**
 * Silences at the alert-tracker boundary: marks the scores of silenced nodes
 * and replaces the batch's alert transitions by what the receivers should hear
 * (detector/silences/gate.ts). Scores and points are kept whatever the silences.
 */
function gateBySilences({ silences, processor }: BatchContext, result: ProcessResult): GateOutcome | undefined {
  if (!silences) return undefined;
  const now = Date.now();
  const newestTick = result.frames.reduce((max, frame) => Math.max(max, frame.tick), Number.NEGATIVE_INFINITY);
  silences.markScores(result.scores, now);
  const outcome = silences.apply(result.alerts, processor.firingAlerts(), now, newestTick);
  result.alerts = outcome.alerts;
  return outcome;
}

/** The candidate's opened episodes that count: those no silence covers (its points are kept either way). */
function gateShadow({ silences }: BatchContext, result: ProcessResult): Alert[] {
  if (!silences) return result.shadowAlerts;
  const now = Date.now();
  return gateShadowStarts(result.shadow, result.shadowAlerts, (alerts) => silences.visible(alerts, now));
}

function recordSuppressed({ metrics, logger }: BatchContext, gated: GateOutcome): void {
  gated.commit();
  for (const alert of gated.suppressed) {
    metrics.suppressed.inc({ kind: alert.kind, status: alert.status });
    logger.info(
      { alert: alert.id, kind: alert.kind, status: alert.status, modality: alert.modality },
      `alert ${alert.status} suppressed by a silence`,
    );
  }
}

/** When a frame's first reading arrived at ingest and when ingest published the frame (its Kafka timestamp). */
interface FrameTiming {
  arrival?: number;
  published?: number;
}

/** A hand-over's start and its frames' timing by `cluster@tick`, for the latency histograms. */
interface HandOver {
  at: number;
  timing: ReadonlyMap<string, FrameTiming>;
}

/**
 * The cluster and tick of each of a batch's frames, from the message key and the tick header ingest sets
 * (`frameMessage`); a message without them is decoded to find out (an invalid one is left out: it is never scored).
 */
function frameKeysOf(batch: IncomingBatch): FrameKey[] {
  const keys: FrameKey[] = [];
  for (const message of batch.messages) {
    const tick = Number(message.headers[TICK_HEADER]);
    if (message.key !== null && message.headers[TICK_HEADER] !== undefined && Number.isFinite(tick)) {
      keys.push({ cluster: message.key, tick });
      continue;
    }
    const decoded = decodeFrame(message.value);
    if (decoded.ok) keys.push({ cluster: decoded.frame.cluster, tick: decoded.frame.tick });
  }
  return keys;
}

/** A batch's valid frames, their timing, and the invalid frames with why. */
interface DecodedBatch {
  frames: Frame[];
  timing: Map<string, FrameTiming>;
  invalid: Array<{ offset: string; reason: string }>;
}

function decodeBatch({ ownership }: BatchContext, batch: IncomingBatch): DecodedBatch {
  const frames: Frame[] = [];
  const timing = new Map<string, FrameTiming>();
  const invalid: DecodedBatch['invalid'] = [];
  for (const message of batch.messages) {
    const decoded = decodeFrame(message.value);
    if (!decoded.ok) {
      invalid.push({ offset: message.offset, reason: decoded.reason });
      continue;
    }
    ownership.seen(decoded.frame.cluster, batch.partition);
    frames.push(decoded.frame);
    const arrival = Number(message.headers[FIRST_ARRIVAL_HEADER]);
    timing.set(`${decoded.frame.cluster}@${decoded.frame.tick}`, {
      ...(Number.isFinite(arrival) ? { arrival } : {}),
      ...(Number.isFinite(message.timestamp) ? { published: message.timestamp } : {}),
    });
  }
  return { frames, timing, invalid };
}

/** Counts and logs a batch's invalid frames, once: when its hand-over is worked on. */
function reportInvalid(
  { metrics, logger }: BatchContext,
  batch: IncomingBatch,
  invalid: DecodedBatch['invalid'],
): void {
  for (const { offset, reason } of invalid) {
    metrics.frames.inc({ outcome: 'invalid' });
    logger.warn({ topic: batch.topic, partition: batch.partition, offset, reason }, 'skipping an invalid frame');
  }
}

/** Writes the sinks and routes the alerts, in that order. */
async function deliver(
  context: BatchContext,
  result: ProcessResult,
  handOver: HandOver,
  started: number,
  scoredAt: number,
): Promise<void> {
  const { metrics } = context;
  const newestTick = result.frames.reduce((max, frame) => Math.max(max, frame.tick), Number.NEGATIVE_INFINITY);
  const batchMs = performance.now() - started;
  const sinkWritten = metrics.sinkSeconds.startTimer();
  const write = context.sink.write({
    frames: result.frames,
    scores: result.scores,
    alerts: result.alerts,
    ...(result.shadow.length > 0 ? { shadow: result.shadow } : {}),
    pipeline:
      result.frames.length > 0
        ? {
            network: result.frames[0].network,
            source: context.replicaId,
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
  // A failed write is timed too: the delivery waited for it as long.
  await write.finally(() => sinkWritten());
  await context.router.route(result.alerts);
  observeLatency(metrics, context.tickMs, result, handOver, scoredAt, Date.now());
  if (result.frames.length > 0) metrics.eventLag.set((Date.now() - newestTick) / 1000);
}

/** Metrics and log lines of a batch that went through. */
function recordBatch(
  { processor, metrics, logger }: BatchContext,
  batches: readonly IncomingBatch[],
  result: ProcessResult,
  started: number,
): void {
  metrics.frames.inc({ outcome: 'processed' }, result.frames.length);
  metrics.frames.inc({ outcome: 'skipped' }, result.skipped);
  for (const call of result.modelCalls) {
    metrics.batchClusters.observe(call.clusters);
    metrics.modelSeconds.observe(call.ms / 1000);
  }
  for (const alert of result.alerts) metrics.alerts.inc({ kind: alert.kind, status: alert.status });
  metrics.warmingNodeTicks.inc(result.warmingNodeTicks);
  for (const { change } of result.topologyChanges) metrics.topologyChanges.inc({ change });
  metrics.clusters.set(processor.clusters().length);
  metrics.firing.set(processor.firingAlerts().length);
  metrics.batchSeconds.observe((performance.now() - started) / 1000);
  for (const alert of result.alerts)
    logger.info(
      {
        alert: alert.id,
        kind: alert.kind,
        status: alert.status,
        modality: alert.modality,
        probability: alert.probability,
        ...(alert.reason ? { reason: alert.reason } : {}),
      },
      `alert ${alert.status}`,
    );
  logger.debug(
    {
      partitions: batches.map((batch) => batch.partition),
      frames: result.frames.length,
      skipped: result.skipped,
      modelCalls: result.modelCalls.length,
    },
    'batch done',
  );
}

/**
 * Latency histograms of one delivered run: tick close → score, → alert, and first reading arrival → score; and tick
 * close → score in stages, for a frame that says when it was published: ingest (tick close → published), queue (→ the
 * hand-over's start) and hand-over (→ scored).
 */
function observeLatency(
  metrics: DetectorMetrics,
  tickMs: number,
  result: { scores: Array<{ cluster: string; tick: number }>; alerts: Array<{ cluster: string }>; frames: Frame[] },
  handOver: HandOver,
  scoredAt: number,
  alertedAt: number,
): void {
  const inHandOver = Math.max(0, scoredAt - handOver.at) / 1000;
  for (const score of result.scores) {
    const close = score.tick + tickMs;
    metrics.tickCloseToScore.observe(Math.max(0, scoredAt - close) / 1000);
    const timing = handOver.timing.get(`${score.cluster}@${score.tick}`);
    if (timing?.arrival !== undefined) metrics.arrivalToScore.observe(Math.max(0, scoredAt - timing.arrival) / 1000);
    if (timing?.published === undefined) continue;
    metrics.latencyStages.observe({ stage: 'ingest' }, Math.max(0, timing.published - close) / 1000);
    metrics.latencyStages.observe({ stage: 'queue' }, Math.max(0, handOver.at - timing.published) / 1000);
    metrics.latencyStages.observe({ stage: 'hand-over' }, inHandOver);
  }
  if (result.alerts.length === 0) return;
  // An alert changes on its cluster's newest tick of the batch.
  const newest = new Map<string, number>();
  for (const frame of result.frames)
    newest.set(frame.cluster, Math.max(newest.get(frame.cluster) ?? Number.NEGATIVE_INFINITY, frame.tick));
  for (const alert of result.alerts) {
    const tick = newest.get(alert.cluster);
    if (tick !== undefined) metrics.tickCloseToAlert.observe(Math.max(0, alertedAt - (tick + tickMs)) / 1000);
  }
}

/** Between batches: a model swap every cluster has made is finished (the old version freed). */
function settleModelSwap({ processor, logger }: BatchContext): void {
  const { finished, next, forced } = processor.settle();
  if (forced.length > 0)
    logger.warn(
      { clusters: forced, to: finished?.to.version ?? processor.swapInProgress()?.to.version },
      'clusters without frames for a long time moved to the new model version (their state was not warmed up)',
    );
  if (finished)
    logger.info(
      { from: finished.from.version, to: finished.to.version, switchTick: new Date(finished.switchTick).toISOString() },
      `model swap from ${finished.from.version} to ${finished.to.version} done on every cluster of this replica`,
    );
  if (next?.kind === 'scheduled')
    logger.info(
      {
        from: next.swap.from.version,
        to: next.swap.to.version,
        switchTick: new Date(next.swap.switchTick).toISOString(),
      },
      `model ${next.swap.to.version} warming up beside ${next.swap.from.version}; it scores from tick ${new Date(next.swap.switchTick).toISOString()}`,
    );
}

/** One line per batch in which clusters changed model version: old and new version, tick, threshold in force. */
function logSwitches({ processor, logger }: BatchContext, result: ProcessResult): void {
  if (result.switched.length === 0) return;
  const swap = processor.swapInProgress();
  const first = result.switched[0];
  const note = swap?.to.thresholdNote ?? `alert threshold ${swap?.to.policy.threshold}`;
  logger.info(
    {
      from: first.from,
      to: first.to,
      tick: new Date(first.tick).toISOString(),
      clusters: result.switched.map((entry) => entry.cluster),
      threshold: swap?.to.policy.threshold,
    },
    `model swapped from ${first.from} to ${first.to} at tick ${new Date(first.tick).toISOString()} (${result.switched.length} cluster${result.switched.length === 1 ? '' : 's'}); ${note}`,
  );
}
