import type { InfluxDB, IPoint } from 'influx';
import pLimit from 'p-limit';
import pRetry from 'p-retry';
import { MEASUREMENTS, type ClusterScore } from '../common/types.ts';
import { redactUrl, type Logger } from '../common/log.ts';
import { influxClient, type InfluxAuth } from './influx-connection.ts';
import { NodeTickLines, pointLine, postLines, type TimedPoint } from './influx-lines.ts';
import { shadowPoints } from './shadow.ts';
import type { PipelineStats, RefusedListener, ResultBatch, ResultSink } from './sink.ts';

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

/** `pipeline`: one point per batch, tagged by the process that wrote it. */
export function pipelinePoint(stats: PipelineStats): TimedPoint {
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

/**
 * A batch as line protocol: its frames' `anomaly` lines (NodeTickLines, which says what they hold), then the batch's
 * `pipeline` point and its shadow's points. What the sink posts for a batch.
 */
export function batchLines(batch: ResultBatch, nodeTicks = new NodeTickLines()): string[] {
  const scores = scoresByFrame(batch);
  const lines: string[] = [];
  for (const frame of batch.frames) nodeTicks.append(frame, scores.get(`${frame.cluster}@${frame.tick}`), lines);
  if (batch.pipeline) lines.push(pointLine(pipelinePoint(batch.pipeline)));
  for (const point of shadowPoints(batch.shadow ?? [])) lines.push(pointLine(point));
  return lines;
}

function scoresByFrame(batch: ResultBatch): Map<string, ClusterScore> {
  const scores = new Map<string, ClusterScore>();
  for (const score of batch.scores) scores.set(`${score.cluster}@${score.tick}`, score);
  return scores;
}

/**
 * Writes results to InfluxDB 1.x as line protocol of its own (influx-lines.ts)
 * through the `influx` client's connection pool: lines in chunks, a bounded
 * number of writes in flight, each retried with exponential backoff. Creates the database on first use if it is missing. Alerts are
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
  private readonly nodeTicks = new NodeTickLines();
  private readonly refusedListeners: RefusedListener[] = [];
  /** When a refusal was last logged, and the points refused since (the log says so at most once a minute). */
  private refusalLoggedAt = Number.NEGATIVE_INFINITY;
  private refusedSinceLog = 0;

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

  /** A batch's points, serialized here rather than by the client (store/influx-lines.ts says why). */
  async write(batch: ResultBatch): Promise<void> {
    const lines = batchLines(batch, this.nodeTicks);
    await this.writeChunks(lines.length, (from, to) =>
      postLines(this.client, this.options.database, lines.slice(from, to).join('\n')),
    );
  }

  /**
   * Writes in chunks of `batchSize` points, `concurrency` at a time, each retried on failure. A 400 answer
   * (a partial write: InfluxDB stored the chunk but refused some points for good, for a limit such as
   * max-values-per-tag or a field type conflict) is logged, counted and not retried: a retry would be refused
   * the same way, and a batch that never lands would stop the detector. A database dropped under a running
   * sink is created again.
   */
  async writePoints(points: IPoint[]): Promise<void> {
    await this.writeChunks(points.length, (from, to) =>
      this.client.writePoints(points.slice(from, to), { precision: 'ms', database: this.options.database }),
    );
  }

  onRefused(listener: RefusedListener): void {
    this.refusedListeners.push(listener);
  }

  /** Writes `count` points in chunks of `batchSize`: `post` writes those from `from` up to (not including) `to`. */
  private async writeChunks(count: number, post: (from: number, to: number) => Promise<void>): Promise<void> {
    if (count === 0) return;
    await this.ensureDatabase();
    const starts: number[] = [];
    for (let from = 0; from < count; from += this.batchSize) starts.push(from);
    await Promise.all(
      starts.map((from) => {
        const to = Math.min(from + this.batchSize, count);
        return this.limit(() => this.withRetry('write', () => this.writeChunk(to - from, () => post(from, to))));
      }),
    );
  }

  private async writeChunk(size: number, post: () => Promise<void>): Promise<void> {
    try {
      await post();
    } catch (error) {
      const refusal = influxRefusal(error);
      if (!refusal) throw error;
      if (refusal.kind === 'database not found') {
        // Dropped while we ran: create it again, then this attempt fails and the retry writes the chunk.
        this.ready = undefined;
        await this.ensureDatabase();
        throw error;
      }
      // A partial write, or a request InfluxDB will never take (a line it cannot parse): the valid points
      // are stored; the rest would be refused again by a retry or a redelivered batch.
      const points = refusal.dropped ?? size;
      this.refusedSinceLog += points;
      // A network past a limit has points refused in every write: one line a minute says it, with the count.
      if (Date.now() - this.refusalLoggedAt >= REFUSAL_LOG_INTERVAL_MS) {
        this.options.logger?.error(
          {
            database: this.options.database,
            dropped: points,
            of: size,
            refusedSinceLastLine: this.refusedSinceLog,
            reason: refusal.message,
          },
          'InfluxDB refused points of a write and stored the rest; they are not retried (raise the InfluxDB limit it names, or fix the conflicting field)',
        );
        this.refusalLoggedAt = Date.now();
        this.refusedSinceLog = 0;
      }
      for (const listener of this.refusedListeners) listener(points, refusal.message);
    }
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

/** Refused points are logged at most this often (every refusal is counted). */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

interface InfluxRefusal {
  /** `refused`: a 400, a partial write or a line InfluxDB cannot parse; the valid points are stored. */
  kind: 'refused' | 'database not found';
  /** InfluxDB's own words (the `error` of its JSON answer). */
  message: string;
  /** Points dropped, when InfluxDB says (`dropped=N`). */
  dropped?: number;
}

/**
 * What a 4xx answer of InfluxDB means for a write: points refused for good (400), or a missing database
 * (404). Undefined for anything worth retrying: network errors, 5xx, and 401/403 (credentials can be fixed
 * while we retry).
 */
export function influxRefusal(error: unknown): InfluxRefusal | undefined {
  const status = (error as { res?: { statusCode?: number } } | null)?.res?.statusCode;
  if (status !== 400 && status !== 404) return undefined;
  const raw = error instanceof Error ? error.message : String(error);
  const json = raw.slice(raw.indexOf('{'));
  let message = raw;
  try {
    message = String((JSON.parse(json) as { error?: unknown }).error ?? raw);
  } catch {
    // Not InfluxDB's JSON (a proxy's page): keep the whole text.
  }
  if (status === 404) return /database not found/i.test(message) ? { kind: 'database not found', message } : undefined;
  const dropped = /dropped=(\d+)/.exec(message);
  return { kind: 'refused', message, dropped: dropped ? Number(dropped[1]) : undefined };
}
