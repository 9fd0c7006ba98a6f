/**
 * The rolling z-score and neighbour-median baselines on the same aligned
 * stream the model saw (the frames ingest produced), turned into alerts by
 * the same alert tracker. Each baseline maps its raw score s to a
 * probability s / (s + s*) with its calibrated raw threshold s*, so the
 * tracker's threshold for it is 0.5 (BASELINE_THRESHOLD) with the same
 * hysteresis ratio and tick counts as the model's.
 */
import type { Alert, Frame } from '../../common/types.ts';
import {
  DEFAULT_RESOLVE_RATIO,
  ClusterAlerts,
  type AlertPolicy,
  type NodeObservation,
} from '../../detector/alerts/tracker.ts';
import { NeighbourMedianScorer } from '../../model/baselines/neighbour-median.ts';
import { BASELINE_THRESHOLD } from '../../model/baselines/node-scores.ts';
import { RollingZScoreScorer } from '../../model/baselines/rolling-zscore.ts';
import { calibrateOnTraining } from '../../model/eval/calibrate.ts';
import { PAPER_PROTOCOL } from '../../model/eval/protocol.ts';
import { computeStats, normalizeSeries } from '../../sources/normalize.ts';
import type { Series } from '../../sources/series.ts';

/** The aligned stream as the detector saw it: every node's value per tick, and who was silent. */
export class AlignedStream {
  readonly ticks: number[] = [];
  private readonly rows: Float32Array[] = [];
  private readonly silentRows: Uint8Array[] = [];
  private readonly nodeIndex: Map<string, number>;
  /** Cluster of each node (from the frames). */
  readonly clusterOf = new Map<string, string>();

  constructor(
    readonly nodes: string[],
    readonly modalities: string[],
  ) {
    this.nodeIndex = new Map(nodes.map((node, i) => [node, i]));
  }

  /** Adds one tick's frames (all clusters). Missing values repeat the node's previous value. */
  add(tick: number, frames: Frame[]): void {
    const N = this.nodes.length;
    const M = this.modalities.length;
    const previous = this.rows[this.rows.length - 1];
    const row = previous ? previous.slice() : new Float32Array(N * M).fill(Number.NaN);
    const silent = new Uint8Array(N);
    for (const frame of frames) {
      for (const node of frame.nodes) {
        const n = this.nodeIndex.get(node.node);
        if (n === undefined) continue;
        this.clusterOf.set(node.node, frame.cluster);
        silent[n] = node.silent ? 1 : 0;
        this.modalities.forEach((modality, m) => {
          const value = node.values[modality];
          if (value !== null && value !== undefined && Number.isFinite(value)) row[n * M + m] = value;
        });
      }
    }
    this.ticks.push(tick);
    this.rows.push(row);
    this.silentRows.push(silent);
  }

  silent(t: number, n: number): boolean {
    return this.silentRows[t][n] === 1;
  }

  /** The stream as a Series; values a node never had are its first known value (or 0). */
  toSeries(): Series {
    const N = this.nodes.length;
    const M = this.modalities.length;
    const data = new Float32Array(this.rows.length * N * M);
    this.rows.forEach((row, t) => data.set(row, t * N * M));
    for (let k = 0; k < N * M; k++) {
      let first = Number.NaN;
      for (let t = 0; t < this.rows.length && Number.isNaN(first); t++) first = data[t * N * M + k];
      for (let t = 0; t < this.rows.length; t++)
        if (Number.isNaN(data[t * N * M + k])) data[t * N * M + k] = Number.isNaN(first) ? 0 : first;
    }
    return {
      nodes: [...this.nodes],
      modalities: [...this.modalities],
      steps: this.rows.length,
      data,
      times: [...this.ticks],
    };
  }
}

export interface BaselineRun {
  name: string;
  rawThreshold: number;
  /** How the raw threshold was set. */
  calibration: string;
  /** Alert transitions with the tick they happened at. */
  transitions: Array<{ tick: number; alert: Alert }>;
}

export interface BaselineOptions {
  /** Ticks [0, fitTicks) fit the normalization and the neighbour-median residuals, and calibrate the thresholds. */
  fitTicks: number;
  /** Neighbours of each node (topology edges, or the node's cluster). */
  neighbours: ReadonlyMap<string, readonly string[]>;
  /** Index of each node's nearest other node, for the calibration's injections. */
  nearest: number[];
  policy: AlertPolicy;
  seed: number;
  onProgress?: (message: string) => void;
}

/** Scores the stream with both baselines and runs their probabilities through the alert tracker. */
export async function runBaselines(stream: AlignedStream, options: BaselineOptions): Promise<BaselineRun[]> {
  const raw = stream.toSeries();
  const fitTicks = Math.max(2, Math.min(options.fitTicks, raw.steps));
  const stats = computeStats(raw, { to: fitTicks });
  const normalized = normalizeSeries(raw, stats);
  const train: Series = {
    ...normalized,
    steps: fitTicks,
    data: normalized.data.slice(0, fitTicks * raw.nodes.length * raw.modalities.length),
  };
  const scorers = [
    new RollingZScoreScorer({ history: PAPER_PROTOCOL.window }),
    new NeighbourMedianScorer({ neighbours: options.neighbours }).fit(train),
  ];
  const runs: BaselineRun[] = [];
  for (const scorer of scorers) {
    let calibration: string;
    try {
      const { rawThreshold } = await calibrateOnTraining(scorer, {
        raw,
        normalized,
        trainEnd: fitTicks,
        protocol: PAPER_PROTOCOL,
        nearest: options.nearest,
        injectionStats: stats,
        normalization: stats,
        seed: options.seed,
      });
      calibration = `best F1 of the paper protocol inside the first ${fitTicks} ticks (raw threshold ${rawThreshold.toFixed(3)})`;
    } catch (error) {
      // Too few ticks for the protocol's check points: the scorer's default (4 standard deviations).
      scorer.rawThreshold = 4;
      calibration = `default raw threshold 4 (calibration not possible: ${(error as Error).message})`;
    }
    options.onProgress?.(`baselines: ${scorer.name}: ${calibration}`);
    const probabilities = (await scorer.scoreSeries(normalized, 0, raw.steps)).node;
    runs.push({
      name: scorer.name,
      rawThreshold: scorer.rawThreshold,
      calibration,
      transitions: trackAlerts(stream, probabilities, options.policy),
    });
  }
  return runs;
}

/** Node probabilities (ticks × N) through one alert tracker per cluster, tick by tick. */
export function trackAlerts(
  stream: AlignedStream,
  probabilities: Float32Array,
  modelPolicy: AlertPolicy,
): Array<{ tick: number; alert: Alert }> {
  // The model's tick counts and localization, at the baseline's own fixed threshold (the model's false-alert budget is its own).
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { falseAlertBudget, ...shared } = modelPolicy;
  const policy: AlertPolicy = {
    ...shared,
    threshold: BASELINE_THRESHOLD,
    resolveThreshold: BASELINE_THRESHOLD * DEFAULT_RESOLVE_RATIO,
  };
  const N = stream.nodes.length;
  const byCluster = new Map<string, number[]>();
  stream.nodes.forEach((node, n) => {
    const cluster = stream.clusterOf.get(node);
    if (cluster === undefined) return;
    let list = byCluster.get(cluster);
    if (!list) byCluster.set(cluster, (list = []));
    list.push(n);
  });
  const network = 'backtest';
  const trackers = new Map(
    [...byCluster.keys()].map((cluster) => [cluster, new ClusterAlerts(network, cluster, policy)]),
  );
  const transitions: Array<{ tick: number; alert: Alert }> = [];
  stream.ticks.forEach((tick, t) => {
    for (const [cluster, members] of byCluster) {
      const observations: NodeObservation[] = members.map((n) => ({
        node: stream.nodes[n],
        probability: probabilities[t * N + n],
        reconstructionError: {},
        silent: stream.silent(t, n),
      }));
      for (const alert of trackers.get(cluster)!.observe(tick, observations)) transitions.push({ tick, alert });
    }
  });
  return transitions;
}
