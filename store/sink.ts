import type { Alert, ClusterScore, Frame } from '../common/types.ts';
import type { ShadowScore } from './shadow.ts';

/**
 * Throughput and latency of one processed batch, written to the `pipeline`
 * measurement. `time` is event time (the newest tick of the batch) like every
 * other point, so replaying a batch overwrites its point instead of adding one.
 */
export interface PipelineStats {
  network: string;
  /** Which process wrote the stats (a replica id), a tag so replicas do not overwrite each other. */
  source: string;
  /** Newest tick of the batch, UTC ms. */
  time: number;
  /** Frames scored in this batch. */
  frames: number;
  /** Frames skipped as already processed (tick ≤ checkpoint). */
  skippedFrames: number;
  /** Clusters scored in this batch. */
  clusters: number;
  /** Wall time of the whole batch (decode, model, sinks), ms. */
  batchMs: number;
  /** Wall time of the model call, ms. */
  modelMs: number;
  /** frames / batch wall time. */
  framesPerSecond: number;
  /** Wall clock now − newest tick: how far behind event time the detector runs, ms. */
  eventLagMs: number;
}

/** Everything one processed batch produced. */
export interface ResultBatch {
  frames: Frame[];
  scores: ClusterScore[];
  /** Alert transitions and re-sends of this batch. */
  alerts: Alert[];
  pipeline?: PipelineStats;
  /** Node-ticks scored by a shadowing candidate version (only while one runs; never routed as alerts). */
  shadow?: ShadowScore[];
}

/**
 * Where results go: InfluxDB in production, the in-memory store in embedded
 * mode. Writing the same batch twice must leave the same data (a replay after
 * a crash rewrites points instead of duplicating them).
 */
export interface ResultSink {
  readonly name: string;
  write(batch: ResultBatch): Promise<void>;
  close(): Promise<void>;
  /**
   * Points the store refused for good while storing the rest of the write (a
   * limit or a type conflict): retrying the batch would refuse them again.
   */
  onRefused?(listener: RefusedListener): void;
}

/** Called with the number of points a store refused and its reason. */
export type RefusedListener = (points: number, reason: string) => void;
