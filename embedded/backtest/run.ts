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
  /** Each scorer's alerts on the same data without the injected faults (by scorer name; a scorer not in it had none): its background alerts. */
  cleanAlerts?: ReadonlyMap<string, readonly AlertSpan[]>;
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
    await new Promise<void>((resolve, reject) =>
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }
}

const iso = (ts: number): string => new Date(ts).toISOString();

/** "0.654", or with a false-alert budget "0.654, 0.871 at the end by the false-alert budget" (the range over clusters), or that it did not raise it. */
function thresholdNote(policy: AlertPolicy, inForce: ReadonlyMap<string, number>): string {
  const stored = policy.threshold.toFixed(3);
  if (!policy.falseAlertBudget || inForce.size === 0) return stored;
  const values = [...inForce.values()];
  const low = Math.min(...values).toFixed(3);
  const high = Math.max(...values).toFixed(3);
  if (high === stored) return `${stored} (the false-alert budget did not raise it)`;
  return `${stored}, ${low === high ? low : `${low}–${high}`} at the end by the false-alert budget`;
}

export async function runBacktest(options: BacktestOptions): Promise<BacktestResult> {
  const started = performance.now();
  const { readings, directory, progress } = options;
  const modalities = [...options.model.config.modalities];
  const pipeline = new BacktestPipeline({
    config: options.config,
    directory,
    model: options.model,
    policy: options.policy,
    adjacency: options.adjacency,
    logger: options.logger,
  });
  const stream = new AlignedStream(
    directory.clusters.flatMap((c) => c.nodes),
    modalities,
  );
  const scores = options.scoresOut
    ? new CsvOut(
        options.scoresOut,
        ['tick', 'node', 'cluster', 'probability', ...modalities.map((m) => `error_${m}`), 'is_anomaly'].join(','),
      )
    : null;
  const recorder = new TickRecorder(stream, modalities, scores, options);
  await pushAll(readings, pipeline, recorder, { started, progress });

  const scorers: ScorerResult[] = [
    {
      name: options.modelName,
      threshold: thresholdNote(options.policy, pipeline.processor.alertThresholds()),
      spans: alertSpans(recorder.transitions),
    },
  ];
  let baselines: BaselineRun[] = [];
  if ((options.baselines ?? options.events !== undefined) && recorder.ticks > 0) {
    baselines = await scoreBaselines(stream, recorder.ticks, options);
    for (const run of baselines)
      scorers.push({
        name: run.name,
        threshold: `0.5 (raw ${run.rawThreshold.toFixed(3)})`,
        spans: alertSpans(run.transitions),
      });
  }
  if (options.alertsOut) await writeAlerts(options.alertsOut, scorers);
  if (options.events && recorder.firstTick !== null && recorder.lastTick !== null)
    measureEvents(options.events, scorers, { first: recorder.firstTick, last: recorder.lastTick }, options);
  return {
    readings: readings.length,
    accepted: pipeline.accepted,
    rejected: pipeline.rejected,
    ticks: recorder.ticks,
    firstTick: recorder.firstTick,
    lastTick: recorder.lastTick,
    nodeTicksScored: recorder.nodeTicksScored,
    seconds: (performance.now() - started) / 1000,
    scorers,
    baselines,
  };
}

interface TickOutput {
  tick: number;
  frames: Frame[];
  scores: ClusterScore[];
  alerts: Alert[];
}

/**
 * What the pipeline emits, tick by tick: counted, kept as the aligned stream
 * (for the baselines) and the model's alert transitions, scores written to
 * CSV, and everything written to the sink in batches.
 */
class TickRecorder {
  ticks = 0;
  firstTick: number | null = null;
  lastTick: number | null = null;
  nodeTicksScored = 0;
  firing = 0;
  readonly transitions: Array<{ tick: number; alert: Alert }> = [];
  private sinkBatch: { frames: Frame[]; scores: ClusterScore[]; alerts: Alert[] } = {
    frames: [],
    scores: [],
    alerts: [],
  };

  constructor(
    private readonly stream: AlignedStream,
    private readonly modalities: string[],
    private readonly scores: CsvOut | null,
    private readonly options: Pick<BacktestOptions, 'sink' | 'onAlert'>,
  ) {}

  readonly onTick = async ({ tick, frames, scores: clusterScores, alerts }: TickOutput): Promise<void> => {
    this.ticks++;
    this.firstTick ??= tick;
    this.lastTick = tick;
    this.stream.add(tick, frames);
    for (const score of clusterScores) {
      for (const node of score.nodes) {
        this.nodeTicksScored++;
        if (this.scores) {
          await this.scores.line(
            [
              iso(tick),
              node.node,
              score.cluster,
              node.probability.toFixed(5),
              ...this.modalities.map((m) => (node.reconstructionError[m] ?? 0).toFixed(5)),
              node.isAnomaly ? 1 : 0,
            ].join(','),
          );
        }
      }
    }
    for (const alert of alerts) {
      this.transitions.push({ tick, alert });
      this.options.onAlert?.(tick, alert);
      this.firing += alert.status === 'firing' ? 1 : -1;
    }
    if (this.options.sink) {
      this.sinkBatch.frames.push(...frames);
      this.sinkBatch.scores.push(...clusterScores);
      this.sinkBatch.alerts.push(...alerts);
      if (this.sinkBatch.frames.length >= 500) await this.flushSink();
    }
  };

  /** Writes what is still batched for the sink and closes the scores CSV. */
  async close(): Promise<void> {
    await this.flushSink();
    await this.scores?.close();
  }

  private async flushSink(): Promise<void> {
    if (!this.options.sink || this.sinkBatch.frames.length === 0) return;
    await this.options.sink.write(this.sinkBatch);
    this.sinkBatch = { frames: [], scores: [], alerts: [] };
  }
}

/** The readings through the pipeline in chunks, with progress every 5 s of wall time (whatever stderr is) and at the end. */
async function pushAll(
  readings: Reading[],
  pipeline: BacktestPipeline,
  recorder: TickRecorder,
  { started, progress }: { started: number; progress: (message: string) => void },
): Promise<void> {
  let lastReport = performance.now();
  const report = (done: number): void => {
    const seconds = (performance.now() - started) / 1000;
    progress(
      `backtest: ${((100 * done) / Math.max(1, readings.length)).toFixed(0)}% (${done} of ${readings.length} readings) in ${seconds.toFixed(0)} s; ` +
        `${recorder.ticks} ticks scored${recorder.lastTick === null ? '' : ` up to ${iso(recorder.lastTick)}`}; ${recorder.firing} alert(s) firing`,
    );
  };
  const CHUNK = 5_000;
  for (let i = 0; i < readings.length; i += CHUNK) {
    await pipeline.push(readings.slice(i, i + CHUNK), recorder.onTick);
    if (performance.now() - lastReport >= 5_000) {
      lastReport = performance.now();
      report(Math.min(readings.length, i + CHUNK));
    }
  }
  await pipeline.finish(recorder.onTick);
  await recorder.close();
  report(readings.length);
  if (pipeline.rejected.length > 0) {
    progress(
      `backtest: ${pipeline.rejected.length} reading(s) rejected by ingest (the first: reading ${pipeline.rejected[0].index + 1}, node ${pipeline.rejected[0].node}: ${pipeline.rejected[0].code}: ${pipeline.rejected[0].reason})`,
    );
  }
}

/** Both baselines on the stream the model saw, fitted and calibrated on its first ticks. */
async function scoreBaselines(stream: AlignedStream, ticks: number, options: BacktestOptions): Promise<BaselineRun[]> {
  options.progress('backtest: scoring the baselines on the same aligned stream');
  const fitTicks = options.baselineFitTicks ?? Math.max(2, Math.floor(ticks / 5));
  return runBaselines(stream, {
    fitTicks,
    neighbours: options.neighbours,
    nearest: options.nearest
      ? options.nearest(stream.nodes)
      : stream.nodes.map((_, i) => (i + 1) % stream.nodes.length),
    policy: options.policy,
    seed: options.seed ?? 1,
    onProgress: options.progress,
  });
}

async function writeAlerts(file: string, scorers: ScorerResult[]): Promise<void> {
  const out = new CsvOut(file, 'scorer,node,cluster,kind,modality,since,fired,resolved,probability');
  for (const scorer of scorers) {
    for (const s of scorer.spans)
      await out.line(
        [
          scorer.name,
          s.node,
          s.cluster,
          s.kind,
          s.modality,
          iso(s.since),
          iso(s.fired),
          s.resolved === null ? '' : iso(s.resolved),
          s.probability.toFixed(4),
        ].join(','),
      );
  }
  await out.close();
}

/** Each scorer's alerts against the known events, over the evaluated span (from --from, else the first tick, to the last). */
function measureEvents(
  events: FaultEvent[],
  scorers: ScorerResult[],
  span: { first: number; last: number },
  options: BacktestOptions,
): void {
  const { directory } = options;
  const clusterOf = new Map<string, string>();
  for (const cluster of directory.clusters) for (const node of cluster.nodes) clusterOf.set(node, cluster.id);
  const from = Math.max(span.first, options.evaluateFrom ?? span.first);
  const metricOptions = {
    tickMs: options.config.ingest.tickMs,
    graceTicks: options.graceTicks ?? options.model.config.window,
    from,
    to: span.last,
    nodes: directory.nodeCount,
    clusterOf,
  };
  for (const scorer of scorers)
    scorer.metrics = eventMetrics(events, scorer.spans, {
      ...metricOptions,
      background: options.cleanAlerts && (options.cleanAlerts.get(scorer.name) ?? []),
    });
}
