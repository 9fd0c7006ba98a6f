import type { InfluxDB, IPoint } from 'influx';
import pLimit from 'p-limit';
import pRetry from 'p-retry';
import { MEASUREMENTS, type ClusterScore, type Frame } from '../common/types.ts';
import { redactUrl, type Logger } from '../common/log.ts';
import { influxClient, type InfluxAuth } from './influx-connection.ts';
import type { PipelineStats, ResultBatch, ResultSink } from './sink.ts';

export interface InfluxSinkOptions {
  /** Base URL of InfluxDB 1.x, e.g. http://127.0.0.1:8086. */
  url: string;
  database: string;
  /** Points per HTTP write. Default 5,000. */
  batchSize?: number;
  /** Writes in flight at once. Default 4. */
  concurrency?: number;
  /** Retries of one write after the first attempt (exponential backoff). Default 5. */
  retries?: number;
  /** Wait before the first retry, ms. Default 200. */
  minBackoffMs?: number;
  logger?: Logger;
  /** Credentials (config influx.username/password or influx.token). */
  auth?: InfluxAuth;
}

/** The reconstruction-error field of a modality in the `anomaly` measurement. */
export const errorField = (modality: string): string => `err_${modality}`;
/** The (denormalized) reconstruction field of a modality in the `anomaly` measurement. */
export const reconstructionField = (modality: string): string => `rec_${modality}`;

/**
 * `reading`: one point per node and tick, tags network/node/cluster, one field
 * per modality that has a value. Time = tick (event time), so the same
 * (series, tick) written again overwrites instead of adding a point.
 */
export function readingPoints(frame: Frame): IPoint[] {
  const points: IPoint[] = [];
  for (const node of frame.nodes) {
    const fields: Record<string, number> = {};
    for (const [modality, value] of Object.entries(node.values))
      if (value !== null && Number.isFinite(value)) fields[modality] = value;
    if (Object.keys(fields).length === 0) continue;
    points.push({
      measurement: MEASUREMENTS.reading,
      tags: { network: frame.network, node: node.node, cluster: frame.cluster },
      fields,
      timestamp: frame.tick,
    });
  }
  return points;
}

/** `anomaly` per node (probability, score, err_<modality>, rec_<modality>, is_anomaly, silenced) and `system` per cluster. */
export function scorePoints(score: ClusterScore): IPoint[] {
  const points: IPoint[] = score.nodes.map((node) => {
    const fields: Record<string, number | boolean> = {
      probability: node.probability,
      score: node.score,
      is_anomaly: node.isAnomaly,
    };
    // Only where the detector follows silences: true while a maintenance silence covered the node.
    if (node.silenced !== undefined) fields.silenced = node.silenced;
    for (const [modality, error] of Object.entries(node.reconstructionError))
      if (Number.isFinite(error)) fields[errorField(modality)] = error;
    for (const [modality, value] of Object.entries(node.reconstruction ?? {}))
      if (Number.isFinite(value)) fields[reconstructionField(modality)] = value;
    return {
      measurement: MEASUREMENTS.anomaly,
      tags: { network: score.network, cluster: score.cluster, node: node.node, ...modelTag(score) },
      fields,
      timestamp: score.tick,
    };
  });
  points.push({
    measurement: MEASUREMENTS.system,
    tags: { network: score.network, cluster: score.cluster, ...modelTag(score) },
    fields: { probability: score.probability },
    timestamp: score.tick,
  });
  return points;
}

/** The `model` tag: the version that scored the tick (absent for scores without one). */
function modelTag(score: ClusterScore): { model?: string } {
  return score.model ? { model: score.model } : {};
}

/** `pipeline`: one point per batch, tagged by the process that wrote it. */
export function pipelinePoint(stats: PipelineStats): IPoint {
  return {
    measurement: MEASUREMENTS.pipeline,
    tags: { network: stats.network, source: stats.source },
    fields: {
      frames: stats.frames,
      skipped_frames: stats.skippedFrames,
      clusters: stats.clusters,
      batch_ms: stats.batchMs,
      model_ms: stats.modelMs,
      frames_per_s: stats.framesPerSecond,
      event_lag_ms: stats.eventLagMs,
    },
    timestamp: stats.time,
  };
}

/** Every point a batch produces, in write order. */
export function batchPoints(batch: ResultBatch): IPoint[] {
  const points = batch.frames.flatMap(readingPoints);
  for (const score of batch.scores) points.push(...scorePoints(score));
  if (batch.pipeline) points.push(pipelinePoint(batch.pipeline));
  return points;
}

/**
 * Writes results to InfluxDB 1.x with the `influx` client: points in chunks,
 * a bounded number of writes in flight, each retried with exponential
 * backoff. Creates the database on first use if it is missing. Alerts are
 * not written here (they go to Alertmanager, webhooks and `wsn.alerts`).
 */
export class InfluxSink implements ResultSink {
  readonly name = 'influx';
  private readonly client: InfluxDB;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly batchSize: number;
  private readonly retries: number;
  private readonly minBackoffMs: number;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: InfluxSinkOptions) {
    this.client = influxClient(options.url, options.database, options.auth);
    this.limit = pLimit(options.concurrency ?? 4);
    this.batchSize = options.batchSize ?? 5_000;
    this.retries = options.retries ?? 5;
    this.minBackoffMs = options.minBackoffMs ?? 200;
  }

  /** Creates the database if missing (once; retried on the next call if it failed). */
  ensureDatabase(): Promise<void> {
    this.ready ??= this.withRetry('create database', async () => {
      const names = await this.client.getDatabaseNames();
      if (!names.includes(this.options.database)) {
        await this.client.createDatabase(this.options.database);
        this.options.logger?.info({ database: this.options.database }, 'created InfluxDB database');
      }
    }).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  async write(batch: ResultBatch): Promise<void> {
    await this.writePoints(batchPoints(batch));
  }

  async writePoints(points: IPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.ensureDatabase();
    const chunks: IPoint[][] = [];
    for (let i = 0; i < points.length; i += this.batchSize) chunks.push(points.slice(i, i + this.batchSize));
    await Promise.all(
      chunks.map((chunk) =>
        this.limit(() =>
          this.withRetry('write', () =>
            this.client.writePoints(chunk, { precision: 'ms', database: this.options.database }),
          ),
        ),
      ),
    );
  }

  /** Runs an InfluxQL query against the sink's database (used by tests and tools). */
  async query<T>(influxql: string): Promise<T[]> {
    return (await this.client.query<T>(influxql, {
      database: this.options.database,
      precision: 'ms',
    })) as unknown as T[];
  }

  async dropDatabase(): Promise<void> {
    await this.client.dropDatabase(this.options.database);
    this.ready = undefined;
  }

  async close(): Promise<void> {
    // The client keeps no open connections between requests; wait for writes in flight.
    while (this.limit.activeCount + this.limit.pendingCount > 0)
      await new Promise((resolve) => setTimeout(resolve, 20));
  }

  private withRetry<T>(what: string, run: () => Promise<T>): Promise<T> {
    return pRetry(run, {
      retries: this.retries,
      minTimeout: this.minBackoffMs,
      maxTimeout: 10_000,
      factor: 2,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        this.options.logger?.warn(
          { what, attempt: attemptNumber, retriesLeft, err: error.message, url: redactUrl(this.options.url) },
          'InfluxDB request failed',
        );
      },
    });
  }
}
