/**
 * The built-in dashboard's data in the distributed deployment: results read
 * back from InfluxDB (the measurements the detector's InfluxDB sink writes),
 * node positions from `node_position`, alerts from Alertmanager (where the
 * detector routes them). Changes are found by polling for a newer tick.
 */
import { escape, type InfluxDB } from 'influx';
import type { Alert, AlertKind, ClusterScore, NodeId, NodeScore, TopologyChangeKind } from '../common/types.ts';
import type { Logger } from '../common/log.ts';
import { NODE_POSITION_MEASUREMENT } from './node-positions.ts';
import { SILENCE_MEASUREMENT, silenceFromRow } from './silences.ts';
import { FEEDBACK_MEASUREMENT, feedbackFromRow } from './feedback.ts';
import type { Feedback } from '../common/feedback.ts';
import { isActive, type Silence } from '../common/silences.ts';
import { influxClient, type InfluxAuth } from './influx-connection.ts';
import { CLUSTER_PROBABILITY_FIELD, VALUE_PREFIX } from './influx-lines.ts';
import type { DashboardResults, NodeSample, ResultChangeNotice, TopologySource, TopologyView } from './results.ts';

interface RawSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Alertmanager alert names the detector uses (detector/alerts/alertmanager.ts ALERT_NAMES). */
const TOPOLOGY_CHANGES: readonly TopologyChangeKind[] = ['added', 'moved', 'removed'];
const ALERT_KINDS: Record<string, AlertKind> = {
  WsnNodeAnomaly: 'anomaly',
  WsnNodeSilent: 'silent',
  WsnTopologyChange: 'topology',
};

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  status: { state: string };
}

export interface InfluxResultsOptions {
  /** InfluxDB 1.x base URL (config influx.url). */
  url: string;
  database: string;
  /** Credentials (config influx.username/password or influx.token). */
  auth?: InfluxAuth;
  /** Alertmanager base URL (config alertmanager.url); without it the alert list stays empty. */
  alertmanagerUrl?: string;
  /** How often to look for new ticks and alerts, ms. Default 5,000. */
  pollMs?: number;
  logger?: Logger;
}

const rowsOf = (series: RawSeries): Array<Record<string, unknown>> =>
  series.values.map((row) => Object.fromEntries(series.columns.map((column, i) => [column, row[i]])));

const numberOr = (value: unknown, fallback: number | null): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : fallback;

export class InfluxDashboardResults implements DashboardResults, TopologySource {
  private readonly client: InfluxDB;
  private readonly listeners = new Set<(change: ResultChangeNotice) => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastTicks = new Map<string, number>();
  private lastAlerts = '';
  private lastSilences = new Map<string, string>();
  private lastAlertNetworks = new Set<string>();

  constructor(private readonly options: InfluxResultsOptions) {
    this.client = influxClient(options.url, options.database, options.auth);
  }

  private async query(influxql: string): Promise<RawSeries[]> {
    const raw = (await this.client.queryRaw(influxql, { database: this.options.database, precision: 'ms' })) as {
      results: Array<{ error?: string; series?: RawSeries[] }>;
    };
    const result = raw.results[0];
    // The detector's sink creates the database with its first write: until then there are no results, not an error.
    if (result?.error && /database not found/.test(result.error)) return [];
    if (result?.error) throw new Error(`InfluxDB rejected "${influxql}": ${result.error}`);
    return result?.series ?? [];
  }

  async networks(): Promise<string[]> {
    const series = await this.query('SHOW TAG VALUES FROM "anomaly" WITH KEY = "network"');
    return series
      .flatMap(rowsOf)
      .map((row) => String(row.value))
      .sort();
  }

  async topology(network: string): Promise<TopologyView | undefined> {
    const series = await this.query(
      `SELECT last("x") AS "x", last("y") AS "y" FROM "${NODE_POSITION_MEASUREMENT}" WHERE "network" = ${escape.stringLit(network)} GROUP BY "node", "cluster"`,
    );
    if (series.length === 0) return undefined;
    const nodes = series.map((s) => {
      const row = rowsOf(s)[0];
      return { node: s.tags?.node ?? '', cluster: s.tags?.cluster ?? '', x: Number(row.x), y: Number(row.y) };
    });
    return { network, nodes, edges: [] };
  }

  async latestScores(network: string): Promise<ClusterScore[]> {
    const where = `"network" = ${escape.stringLit(network)}`;
    const [systems, nodes] = await Promise.all([
      this.query(
        `SELECT last("${CLUSTER_PROBABILITY_FIELD}") AS "probability", "model" FROM "anomaly" WHERE ${where} GROUP BY "cluster"`,
      ),
      this.query(
        `SELECT last("probability") AS "probability", last("score") AS "score", last("is_anomaly") AS "is_anomaly" FROM "anomaly" WHERE ${where} GROUP BY "cluster", "node"`,
      ),
    ]);
    const byCluster = new Map<string, ClusterScore>();
    for (const s of systems) {
      const row = rowsOf(s)[0];
      const cluster = s.tags?.cluster ?? '';
      byCluster.set(cluster, {
        network,
        cluster,
        tick: Number(row.time),
        probability: Number(row.probability),
        nodes: [],
        // The model version that scored the cluster's newest tick (the dashboard shows it).
        ...(typeof row.model === 'string' ? { model: row.model } : {}),
      });
    }
    for (const s of nodes) {
      const row = rowsOf(s)[0];
      const cluster = s.tags?.cluster ?? '';
      const score: NodeScore = {
        node: s.tags?.node ?? '',
        probability: Number(row.probability),
        score: numberOr(row.score, 0) ?? 0,
        reconstructionError: {},
        isAnomaly: row.is_anomaly === true,
      };
      let entry = byCluster.get(cluster);
      if (!entry)
        byCluster.set(
          cluster,
          (entry = { network, cluster, tick: Number(row.time), probability: score.probability, nodes: [] }),
        );
      entry.nodes.push(score);
    }
    return [...byCluster.values()].sort((a, b) => a.cluster.localeCompare(b.cluster, undefined, { numeric: true }));
  }

  async nodeHistory(network: string, node: NodeId, limit: number): Promise<NodeSample[]> {
    const where = `"network" = ${escape.stringLit(network)} AND "node" = ${escape.stringLit(node)}`;
    // Scored ticks only (the warm-up's points have readings and no probability).
    const scores = await this.query(
      `SELECT * FROM "anomaly" WHERE ${where} AND "probability" >= 0 ORDER BY time DESC LIMIT ${limit}`,
    );
    const samples: NodeSample[] = [];
    for (const row of scores.flatMap(rowsOf)) {
      const tick = Number(row.time);
      const values: Record<string, number | null> = {};
      for (const [key, value] of Object.entries(row))
        if (key.startsWith(VALUE_PREFIX)) values[key.slice(VALUE_PREFIX.length)] = numberOr(value, null);
      // A node silent at that tick (no reading) has no sample, as before the schema had one point per node-tick.
      if (Object.values(values).every((value) => value === null)) continue;
      const reconstruction: Record<string, number | null> = {};
      for (const modality of Object.keys(values)) reconstruction[modality] = numberOr(row[`rec_${modality}`], null);
      samples.push({
        tick,
        values,
        reconstruction,
        probability: Number(row.probability),
        isAnomaly: row.is_anomaly === true,
      });
    }
    return samples.sort((a, b) => a.tick - b.tick);
  }

  async alerts(network?: string): Promise<Alert[]> {
    if (!this.options.alertmanagerUrl) return [];
    const url = new URL('/api/v2/alerts', this.options.alertmanagerUrl);
    url.searchParams.set('active', 'true');
    const res = await fetch(url);
    if (!res.ok) throw new Error(`Alertmanager ${url.origin} answered ${res.status} to GET /api/v2/alerts`);
    const alerts: Alert[] = [];
    for (const item of (await res.json()) as GettableAlert[]) {
      const kind = ALERT_KINDS[item.labels.alertname];
      if (!kind || (network !== undefined && item.labels.network !== network)) continue;
      const change = TOPOLOGY_CHANGES.find((known) => known === item.labels.change);
      alerts.push({
        // A topology alert has its own id beside the node's anomaly alert (detector/alerts/topology-changes.ts).
        id: `${item.labels.network}/${item.labels.cluster}/${item.labels.node}${kind === 'topology' ? '/topology' : ''}`,
        kind,
        ...(kind === 'topology' && change ? { change } : {}),
        status: item.status.state === 'active' ? 'firing' : 'resolved',
        network: item.labels.network,
        cluster: item.labels.cluster,
        node: item.labels.node,
        modality: item.labels.modality ?? 'none',
        probability: Number(item.annotations.probability ?? 0),
        startsAt: Date.parse(item.startsAt),
        dashboardUrl: item.annotations.dashboard ?? '',
      });
    }
    return alerts.sort((a, b) => b.startsAt - a.startsAt || a.id.localeCompare(b.id));
  }

  /** The silences in force now, from the `silence` points `wsn-watch silence` writes (store/silences.ts). */
  async silences(network: string, now = Date.now()): Promise<Silence[]> {
    const series = await this.query(
      `SELECT * FROM "${SILENCE_MEASUREMENT}" WHERE "network" = ${escape.stringLit(network)} AND "ends_at" > ${now}`,
    );
    return series
      .flatMap(rowsOf)
      .map(silenceFromRow)
      .filter((silence) => isActive(silence, now))
      .sort((a, b) => a.endsAt - b.endsAt || a.id.localeCompare(b.id));
  }

  /** The newest operator marks of the network's alerts, newest first (the `feedback` points, store/feedback.ts). */
  async feedback(network: string, limit = 50): Promise<Feedback[]> {
    const series = await this.query(
      `SELECT * FROM "${FEEDBACK_MEASUREMENT}" WHERE "network" = ${escape.stringLit(network)} ORDER BY time DESC LIMIT ${limit}`,
    );
    return series
      .flatMap(rowsOf)
      .map(feedbackFromRow)
      .sort((a, b) => b.markedAt - a.markedAt || a.alertId.localeCompare(b.alertId));
  }

  subscribe(listener: (change: ResultChangeNotice) => void): () => void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 5_000);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Emits a change for every network whose newest tick moved, and when the set of alerts changed. */
  async poll(): Promise<void> {
    try {
      const series = await this.query(`SELECT last("${CLUSTER_PROBABILITY_FIELD}") FROM "anomaly" GROUP BY "network"`);
      for (const s of series) {
        const network = s.tags?.network ?? '';
        const tick = Number(rowsOf(s)[0].time);
        if (this.lastTicks.get(network) !== tick) {
          this.lastTicks.set(network, tick);
          this.emit({ kind: 'scores', network });
        }
      }
      await this.pollSilences();
      const alerts = await this.alerts();
      const fingerprint = JSON.stringify(alerts.map((a) => [a.id, a.status, a.probability]));
      if (fingerprint !== this.lastAlerts) {
        const networks = new Set(alerts.map((a) => a.network));
        // Networks whose last alert just ended change too.
        for (const network of new Set([...networks, ...this.lastAlertNetworks])) this.emit({ kind: 'alert', network });
        this.lastAlerts = fingerprint;
        this.lastAlertNetworks = networks;
      }
    } catch (error) {
      // A database or Alertmanager outage must not stop the dashboard; the next poll retries.
      this.options.logger?.warn({ err: (error as Error).message }, 'dashboard poll failed');
    }
  }

  /** Emits a change for every network whose silences in force changed (added, expired, run out) or that got feedback. */
  private async pollSilences(): Promise<void> {
    for (const network of await this.networks()) {
      const marks = (await this.feedback(network, 20)).map((f) => `${f.alertId}@${f.markedAt}`);
      const fingerprint = [...(await this.silences(network)).map((s) => `${s.id}@${s.endsAt}`), ...marks].join(',');
      if ((this.lastSilences.get(network) ?? '') !== fingerprint) {
        this.lastSilences.set(network, fingerprint);
        this.emit({ kind: 'silences', network });
      }
    }
  }

  private emit(change: ResultChangeNotice): void {
    for (const listener of this.listeners) listener(change);
  }
}
