import type { Alert, ClusterScore, Frame, Modality, NodeId } from '../common/types.ts';
import type { ResultBatch, ResultSink } from './sink.ts';

/** One node at one tick: its aligned values and (once scored) the detector's verdict. */
export interface NodePoint {
  network: string;
  cluster: string;
  node: NodeId;
  /** Tick start, UTC ms. */
  tick: number;
  /** Aligned values per modality (null: never reported); absent until the frame was written. */
  values?: Record<Modality, number | null>;
  staleTicks?: number;
  silent?: boolean;
  /** The detector's verdict; absent until scored (e.g. while the window fills). */
  probability?: number;
  score?: number;
  reconstructionError?: Record<Modality, number>;
  reconstruction?: Record<Modality, number>;
  isAnomaly?: boolean;
}

/** One cluster's probability at one tick (the `cluster_probability` field of the `anomaly` measurement). */
export interface ClusterPoint {
  network: string;
  cluster: string;
  tick: number;
  probability: number;
}

/** A scored node at one tick, with its measured values and the model's reconstruction. */
export interface NodeSample {
  cluster: string;
  tick: number;
  /** Measured (aligned) value per modality; null where the node had none. */
  values: Record<Modality, number | null>;
  /** The model's reconstruction per modality in the values' unit; null where the scorer gave none. */
  reconstruction: Record<Modality, number | null>;
  reconstructionError: Record<Modality, number>;
  probability: number;
  score: number;
  isAnomaly: boolean;
  staleTicks: number;
  silent: boolean;
}

/** What changed, for live views: they re-read the affected network. */
export type ResultChange =
  { kind: 'scores'; network: string; cluster: string; tick: number } | { kind: 'alert'; network: string; alert: Alert };

export interface MemoryResultStoreOptions {
  /** Points kept per node (oldest dropped first). Default 5,000. */
  historyPerNode?: number;
  /** Points kept per cluster. Default 5,000. */
  historyPerCluster?: number;
  /** Alerts kept, resolved ones dropped oldest first. Default 1,000. */
  maxAlerts?: number;
}

/**
 * The embedded mode's result store: the same sink interface as InfluxDB, kept
 * in memory and read by the built-in dashboard. Like InfluxDB it keys a point
 * by (series, tick), so writing a batch twice leaves the same data. Queries
 * are async so a store backed by a database can offer the same surface.
 */
export class MemoryResultStore implements ResultSink {
  readonly name = 'memory';
  private readonly historyPerNode: number;
  private readonly historyPerCluster: number;
  private readonly maxAlerts: number;
  /** `network\0node` → points sorted by tick. */
  private readonly nodes = new Map<string, NodePoint[]>();
  /** `network\0cluster` → points sorted by tick. */
  private readonly clusters = new Map<string, ClusterPoint[]>();
  /** `network\0cluster` → the newest score. */
  private readonly latestClusterScores = new Map<string, ClusterScore>();
  /** Alert id → its latest state; map order = order of the latest update. */
  private readonly alertsById = new Map<string, Alert>();
  private readonly listeners = new Set<(change: ResultChange) => void>();

  constructor(options: MemoryResultStoreOptions = {}) {
    this.historyPerNode = options.historyPerNode ?? 5_000;
    this.historyPerCluster = options.historyPerCluster ?? 5_000;
    this.maxAlerts = options.maxAlerts ?? 1_000;
  }

  async write(batch: ResultBatch): Promise<void> {
    for (const frame of batch.frames) this.applyFrame(frame);
    for (const score of batch.scores) this.applyScore(score);
    for (const alert of batch.alerts) this.applyAlert(alert);
    this.trimAlerts();
    for (const score of batch.scores)
      this.emit({ kind: 'scores', network: score.network, cluster: score.cluster, tick: score.tick });
    for (const alert of batch.alerts) this.emit({ kind: 'alert', network: alert.network, alert });
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  /** Networks seen so far, sorted. */
  async networks(): Promise<string[]> {
    const names = new Set<string>();
    for (const points of this.nodes.values()) if (points[0]) names.add(points[0].network);
    return [...names].sort();
  }

  /** The newest score of every cluster of the network, sorted by cluster. */
  async latestScores(network: string): Promise<ClusterScore[]> {
    return [...this.latestClusterScores.values()]
      .filter((score) => score.network === network)
      .sort((a, b) => a.cluster.localeCompare(b.cluster, undefined, { numeric: true }));
  }

  /** The newest point of every node of the network (scored or not), sorted by cluster then node. */
  async latestNodes(network: string): Promise<NodePoint[]> {
    const out: NodePoint[] = [];
    for (const points of this.nodes.values()) {
      const last = points[points.length - 1];
      if (last && last.network === network) out.push(last);
    }
    return out.sort(
      (a, b) =>
        a.cluster.localeCompare(b.cluster, undefined, { numeric: true }) ||
        a.node.localeCompare(b.node, undefined, { numeric: true }),
    );
  }

  /** A node's newest `limit` scored samples (values, reconstruction, verdict), oldest first. */
  async nodeHistory(network: string, node: NodeId, limit = 500): Promise<NodeSample[]> {
    const points = this.nodes.get(seriesKey(network, node)) ?? [];
    const samples: NodeSample[] = [];
    for (let i = points.length - 1; i >= 0 && samples.length < limit; i--) {
      const sample = toSample(points[i]);
      if (sample) samples.push(sample);
    }
    return samples.reverse();
  }

  /** A cluster's newest `limit` probabilities, oldest first. */
  async clusterHistory(network: string, cluster: string, limit = 500): Promise<ClusterPoint[]> {
    const points = this.clusters.get(seriesKey(network, cluster)) ?? [];
    return points.slice(Math.max(0, points.length - limit));
  }

  /** Firing alerts and recently resolved ones (of one network or all), newest start first. */
  async alerts(network?: string): Promise<Alert[]> {
    return [...this.alertsById.values()]
      .filter((alert) => network === undefined || alert.network === network)
      .sort((a, b) => b.startsAt - a.startsAt || a.id.localeCompare(b.id));
  }

  /** Calls `listener` after every change; returns the function that stops it. */
  subscribe(listener: (change: ResultChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private emit(change: ResultChange): void {
    for (const listener of this.listeners) {
      // A failing view must not fail the detector's batch.
      try {
        listener(change);
      } catch {
        /* ignored on purpose */
      }
    }
  }

  private applyFrame(frame: Frame): void {
    for (const entry of frame.nodes) {
      const point = this.pointAt(frame.network, frame.cluster, entry.node, frame.tick);
      point.values = { ...entry.values };
      point.staleTicks = entry.staleTicks;
      point.silent = entry.silent;
    }
  }

  private applyScore(score: ClusterScore): void {
    for (const entry of score.nodes) {
      const point = this.pointAt(score.network, score.cluster, entry.node, score.tick);
      point.probability = entry.probability;
      point.score = entry.score;
      point.reconstructionError = { ...entry.reconstructionError };
      point.reconstruction = entry.reconstruction ? { ...entry.reconstruction } : undefined;
      point.isAnomaly = entry.isAnomaly;
    }
    const key = seriesKey(score.network, score.cluster);
    let points = this.clusters.get(key);
    if (!points) this.clusters.set(key, (points = []));
    upsertSorted(
      points,
      { network: score.network, cluster: score.cluster, tick: score.tick, probability: score.probability },
      this.historyPerCluster,
    );
    const previous = this.latestClusterScores.get(key);
    if (!previous || previous.tick <= score.tick) this.latestClusterScores.set(key, score);
  }

  /** The point of (network, node, tick), created in tick order when new. */
  private pointAt(network: string, cluster: string, node: NodeId, tick: number): NodePoint {
    const key = seriesKey(network, node);
    let points = this.nodes.get(key);
    if (!points) this.nodes.set(key, (points = []));
    const index = findTick(points, tick);
    if (index >= 0) {
      points[index].cluster = cluster;
      return points[index];
    }
    const point: NodePoint = { network, cluster, node, tick };
    upsertSorted(points, point, this.historyPerNode);
    return point;
  }

  private applyAlert(alert: Alert): void {
    // Re-insert so the map's order reflects the latest update (trimming drops the stalest first).
    this.alertsById.delete(alert.id);
    this.alertsById.set(alert.id, { ...alert });
  }

  private trimAlerts(): void {
    if (this.alertsById.size <= this.maxAlerts) return;
    for (const [id, alert] of this.alertsById) {
      if (this.alertsById.size <= this.maxAlerts) break;
      if (alert.status === 'resolved') this.alertsById.delete(id);
    }
  }
}

function toSample(point: NodePoint): NodeSample | undefined {
  if (point.probability === undefined || point.values === undefined) return undefined;
  const reconstruction: Record<Modality, number | null> = {};
  for (const modality of Object.keys(point.values)) reconstruction[modality] = point.reconstruction?.[modality] ?? null;
  return {
    cluster: point.cluster,
    tick: point.tick,
    values: point.values,
    reconstruction,
    reconstructionError: point.reconstructionError ?? {},
    probability: point.probability,
    score: point.score ?? 0,
    isAnomaly: point.isAnomaly ?? false,
    staleTicks: point.staleTicks ?? 0,
    silent: point.silent ?? false,
  };
}

function seriesKey(network: string, name: string): string {
  return `${network}\u0000${name}`;
}

/** Index of the point with this tick, or -1. Points are sorted by tick. */
function findTick(points: { tick: number }[], tick: number): number {
  let lo = 0;
  let hi = points.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid].tick === tick) return mid;
    if (points[mid].tick < tick) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Inserts (or replaces) a point keeping tick order, then drops the oldest beyond `capacity`. */
function upsertSorted<T extends { tick: number }>(points: T[], point: T, capacity: number): void {
  const existing = findTick(points, point.tick);
  if (existing >= 0) {
    points[existing] = point;
    return;
  }
  let at = points.length;
  while (at > 0 && points[at - 1].tick > point.tick) at--;
  points.splice(at, 0, point);
  if (points.length > capacity) points.splice(0, points.length - capacity);
}
