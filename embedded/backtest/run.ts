/**
 * `wsn-watch backtest`: a history through the live path (ingest's alignment,
 * the detector's frame processor and alert tracker) at full speed, writing
 * per-node-tick scores and alerts, and, given known events, measuring the
 * alerts against them next to the two baselines on the same aligned stream.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Config } from '../../common/config.ts';
import type { Logger } from '../../common/log.ts';
import type { Alert, ClusterScore, Frame, Reading } from '../../common/types.ts';
import type { AlertPolicy } from '../../detector/alerts/tracker.ts';
import type { StreamingModel } from '../../detector/service/model.ts';
import type { AdjacencyProvider } from '../../detector/service/processor.ts';
import type { NodeDirectory } from '../../ingest/directory.ts';
import type { ResultSink } from '../../store/sink.ts';
import { AlignedStream, runBaselines, type BaselineRun } from './baselines.ts';
import { alertSpans, eventMetrics, type AlertSpan, type EventMetrics, type FaultEvent } from './events.ts';
import { BacktestPipeline, type Rejected } from './pipeline.ts';

export interface BacktestOptions {
  config: Config;
  readings: Reading[];
  directory: NodeDirectory;
  model: StreamingModel;
  /** Name of the model in reports (its folder). */
  modelName: string;
  policy: AlertPolicy;
  adjacency?: AdjacencyProvider;
  /** Neighbours of each node, for the neighbour-median baseline. */
  neighbours: ReadonlyMap<string, readonly string[]>;
  /** Index (in directory order of `stream nodes`) of each node's nearest node; default: the next node. */
  nearest?: (nodes: string[]) => number[];
  scoresOut?: string;
  alertsOut?: string;
  /** Also written here (InfluxDB through store/). */
  sink?: ResultSink;
  events?: FaultEvent[];
  /** Run the baselines too (default: when events are given). */
  baselines?: boolean;
  /** Ticks at the start that fit and calibrate the baselines (default: a fifth of the stream). */
  baselineFitTicks?: number;
  /** Evaluated span start (alerts and node-days from here); default the first tick. */
  evaluateFrom?: number;
  /** Ticks after an event's end that an alert still counts for it. */
  graceTicks?: number;
  seed?: number;
  /** Hears every alert transition of the model as it happens, with its tick. */
  onAlert?: (tick: number, alert: Alert) => void;
  logger: Logger;
  progress: (message: string) => void;
}

export interface ScorerResult {
  name: string;
  threshold: string;
  spans: AlertSpan[];
  metrics?: EventMetrics;
}

export interface BacktestResult {
  readings: number;
  accepted: number;
  rejected: Rejected[];
  ticks: number;
  firstTick: number | null;
  lastTick: number | null;
  nodeTicksScored: number;
  seconds: number;
  scorers: ScorerResult[];
  baselines: BaselineRun[];
}

/** A CSV file written line by line, waiting when the disk is behind. */
class CsvOut {
  private readonly stream: WriteStream;
  private buffer: string[] = [];
  constructor(file: string, header: string) {
    this.stream = createWriteStream(file);
    this.buffer.push(header);
  }
  async line(text: string): Promise<void> {
    this.buffer.push(text);
    if (this.buffer.length >= 2_000) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const ok = this.stream.write(this.buffer.join('\n') + '\n');
    this.buffer = [];
    if (!ok) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
  }
  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

const iso = (ts: number): string => new Date(ts).toISOString();

export async function runBacktest(options: BacktestOptions): Promise<BacktestResult> {
  const started = performance.now();
  const { config, readings, directory, progress } = options;
  const modalities = [...options.model.config.modalities];
  const pipeline = new BacktestPipeline({ config, directory, model: options.model, policy: options.policy, adjacency: options.adjacency, logger: options.logger });
  const nodes = directory.clusters.flatMap((c) => c.nodes);
  const stream = new AlignedStream(nodes, modalities);
  const scores = options.scoresOut ? new CsvOut(options.scoresOut, ['tick', 'node', 'cluster', 'probability', ...modalities.map((m) => `error_${m}`), 'is_anomaly'].join(',')) : null;
  const transitions: Array<{ tick: number; alert: Alert }> = [];
  let ticks = 0;
  let firstTick: number | null = null;
  let lastTick: number | null = null;
  let nodeTicksScored = 0;
  let firing = 0;
  let sinkBatch: { frames: Frame[]; scores: ClusterScore[]; alerts: Alert[] } = { frames: [], scores: [], alerts: [] };
  const flushSink = async (): Promise<void> => {
    if (!options.sink || sinkBatch.frames.length === 0) return;
    await options.sink.write(sinkBatch);
    sinkBatch = { frames: [], scores: [], alerts: [] };
  };

  const onTick = async ({ tick, frames, scores: clusterScores, alerts }: { tick: number; frames: Frame[]; scores: ClusterScore[]; alerts: Alert[] }): Promise<void> => {
    ticks++;
    firstTick ??= tick;
    lastTick = tick;
    stream.add(tick, frames);
    for (const score of clusterScores) {
      for (const node of score.nodes) {
        nodeTicksScored++;
        if (scores) {
          await scores.line([iso(tick), node.node, score.cluster, node.probability.toFixed(5), ...modalities.map((m) => (node.reconstructionError[m] ?? 0).toFixed(5)), node.isAnomaly ? 1 : 0].join(','));
        }
      }
    }
    for (const alert of alerts) {
      transitions.push({ tick, alert });
      options.onAlert?.(tick, alert);
      firing += alert.status === 'firing' ? 1 : -1;
    }
    if (options.sink) {
      sinkBatch.frames.push(...frames);
      sinkBatch.scores.push(...clusterScores);
      sinkBatch.alerts.push(...alerts);
      if (sinkBatch.frames.length >= 500) await flushSink();
    }
  };

  // Progress: every 5 s of wall time, whatever stderr is.
  let lastReport = performance.now();
  const report = (done: number): void => {
    const seconds = (performance.now() - started) / 1000;
    progress(
      `backtest: ${((100 * done) / Math.max(1, readings.length)).toFixed(0)}% (${done} of ${readings.length} readings) in ${seconds.toFixed(0)} s; ` +
        `${ticks} ticks scored${lastTick === null ? '' : ` up to ${iso(lastTick)}`}; ${firing} alert(s) firing`,
    );
  };
  const CHUNK = 5_000;
  for (let i = 0; i < readings.length; i += CHUNK) {
    await pipeline.push(readings.slice(i, i + CHUNK), onTick);
    if (performance.now() - lastReport >= 5_000) {
      lastReport = performance.now();
      report(Math.min(readings.length, i + CHUNK));
    }
  }
  await pipeline.finish(onTick);
  await flushSink();
  await scores?.close();
  report(readings.length);
  if (pipeline.rejected.length > 0) {
    progress(`backtest: ${pipeline.rejected.length} reading(s) rejected by ingest (the first: reading ${pipeline.rejected[0].index + 1}, node ${pipeline.rejected[0].node}: ${pipeline.rejected[0].code}: ${pipeline.rejected[0].reason})`);
  }

  const modelSpans = alertSpans(transitions);
  const scorers: ScorerResult[] = [{ name: options.modelName, threshold: options.policy.threshold.toFixed(3), spans: modelSpans }];
  let baselines: BaselineRun[] = [];
  if ((options.baselines ?? options.events !== undefined) && ticks > 0) {
    progress('backtest: scoring the baselines on the same aligned stream');
    const fitTicks = options.baselineFitTicks ?? Math.max(2, Math.floor(ticks / 5));
    baselines = await runBaselines(stream, {
      fitTicks,
      neighbours: options.neighbours,
      nearest: options.nearest ? options.nearest(stream.nodes) : stream.nodes.map((_, i) => (i + 1) % stream.nodes.length),
      policy: options.policy,
      seed: options.seed ?? 1,
      onProgress: progress,
    });
    for (const run of baselines) scorers.push({ name: run.name, threshold: `0.5 (raw ${run.rawThreshold.toFixed(3)})`, spans: alertSpans(run.transitions) });
  }

  if (options.alertsOut) {
    const out = new CsvOut(options.alertsOut, 'scorer,node,cluster,kind,modality,since,fired,resolved,probability');
    for (const scorer of scorers) {
      for (const s of scorer.spans) await out.line([scorer.name, s.node, s.cluster, s.kind, s.modality, iso(s.since), iso(s.fired), s.resolved === null ? '' : iso(s.resolved), s.probability.toFixed(4)].join(','));
    }
    await out.close();
  }

  if (options.events && firstTick !== null && lastTick !== null) {
    const clusterOf = new Map<string, string>();
    for (const cluster of directory.clusters) for (const node of cluster.nodes) clusterOf.set(node, cluster.id);
    const from = Math.max(firstTick, options.evaluateFrom ?? firstTick);
    const metricOptions = { tickMs: config.ingest.tickMs, graceTicks: options.graceTicks ?? options.model.config.window, from, to: lastTick, nodes: directory.nodeCount, clusterOf };
    for (const scorer of scorers) scorer.metrics = eventMetrics(options.events, scorer.spans, metricOptions);
  }
  return {
    readings: readings.length,
    accepted: pipeline.accepted,
    rejected: pipeline.rejected,
    ticks,
    firstTick,
    lastTick,
    nodeTicksScored,
    seconds: (performance.now() - started) / 1000,
    scorers,
    baselines,
  };
}
