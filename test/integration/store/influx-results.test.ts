/**
 * The built-in dashboard over the distributed deployment: results read back
 * from the real InfluxDB (written by the detector's InfluxDB sink), positions
 * from node_position, alerts from the real Alertmanager (posted by the
 * detector's Alertmanager route).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxSink } from '../../../store/influx-sink.ts';
import type { ResultBatch } from '../../../store/sink.ts';
import { AlertmanagerRoute } from '../../../detector/alerts/alertmanager.ts';
import { loadConfig } from '../../../common/config.ts';
import type { Alert } from '../../../common/types.ts';
import { writeNodePositions } from '../../../store/node-positions.ts';
import { InfluxDashboardResults } from '../../../store/influx-results.ts';
import { startDashboardServer, type DashboardServer } from '../../../dashboards/web/server.ts';
import type { ResultChangeNotice } from '../../../store/results.ts';
import { ANOMALOUS_NODE, LAB_TOPOLOGY, T0, TICK_MS, labBatch } from '../dashboards/lab-network.ts';

const config = loadConfig({ env: process.env });
const database = `wsn_dash_results_${process.pid}_${Date.now()}`;
// Alertmanager is shared by every suite: a network name of our own keeps its alerts apart.
const network = `dash-${process.pid}-${Date.now()}`;
const ANOMALY_FROM = 50;

/** The lab fixture under this run's network name. */
function batchAt(tickIndex: number): ResultBatch {
  const batch = labBatch(tickIndex, ANOMALY_FROM);
  return {
    frames: batch.frames.map((f) => ({ ...f, network })),
    scores: batch.scores.map((s) => ({ ...s, network })),
    alerts: batch.alerts.map((a) => ({
      ...a,
      network,
      id: `${network}/${a.cluster}/${a.node}`,
      dashboardUrl: `http://127.0.0.1:8080/node/${network}/${a.node}`,
    })),
  };
}

describe('dashboard results from InfluxDB and Alertmanager', () => {
  const sink = new InfluxSink({ url: config.influx.url, database, retries: 1 });
  const alertmanager = new AlertmanagerRoute({ url: config.alertmanager.url });
  const results = new InfluxDashboardResults({
    url: config.influx.url,
    database,
    alertmanagerUrl: config.alertmanager.url,
    pollMs: 3_600_000,
  });
  let alert: Alert;
  let server: DashboardServer;

  beforeAll(async () => {
    for (let i = 0; i < 60; i++) await sink.write(batchAt(i));
    await writeNodePositions(sink, { ...LAB_TOPOLOGY, network }, T0);
    alert = batchAt(59).alerts[0];
    await alertmanager.deliver([alert]);
    server = await startDashboardServer({ store: results, topology: results, port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await alertmanager.deliver([{ ...alert, status: 'resolved', endsAt: Date.now() - 1_000 }]);
    await sink.dropDatabase();
    await sink.close();
  });

  it('lists the network and its floor plan from node_position', async () => {
    expect(await results.networks()).toEqual([network]);
    const view = await results.topology(network);
    expect(view?.nodes).toHaveLength(LAB_TOPOLOGY.nodes.length);
    expect(view?.nodes.find((n) => n.node === ANOMALOUS_NODE)).toEqual({
      node: ANOMALOUS_NODE,
      cluster: 'c2',
      x: 16,
      y: 7,
    });
    expect(await results.topology('elsewhere')).toBeUndefined();
  });

  it('reads the latest score of every cluster and node', async () => {
    const scores = await results.latestScores(network);
    expect(scores.map((s) => s.cluster)).toEqual(['c1', 'c2', 'c3']);
    for (const s of scores) expect(s.tick).toBe(T0 + 59 * TICK_MS);
    const c2 = scores.find((s) => s.cluster === 'c2')!;
    expect(c2.probability).toBeCloseTo(0.94, 6);
    const node = c2.nodes.find((n) => n.node === ANOMALOUS_NODE)!;
    expect(node).toMatchObject({ isAnomaly: true });
    expect(node.probability).toBeCloseTo(0.94, 6);
    expect(
      scores
        .flatMap((s) => s.nodes)
        .filter((n) => n.isAnomaly)
        .map((n) => n.node),
    ).toEqual([ANOMALOUS_NODE]);
  });

  it("reads a node's history: measured values joined with the reconstruction, oldest first", async () => {
    const samples = await results.nodeHistory(network, ANOMALOUS_NODE, 20);
    expect(samples).toHaveLength(20);
    expect(samples[0].tick).toBe(T0 + 40 * TICK_MS);
    expect(samples[19].tick).toBe(T0 + 59 * TICK_MS);
    const expected = batchAt(59)
      .frames.find((f) => f.cluster === 'c2')!
      .nodes.find((n) => n.node === ANOMALOUS_NODE)!;
    expect(samples[19].values.temperature).toBeCloseTo(expected.values.temperature!, 9);
    expect(Object.keys(samples[19].reconstruction).sort()).toEqual(['humidity', 'light', 'temperature', 'voltage']);
    expect(samples[19].values.temperature! - samples[19].reconstruction.temperature!).toBeGreaterThan(5);
    expect(samples.filter((s) => s.isAnomaly).map((s) => s.tick)).toEqual(
      [50, 51, 52, 53, 54, 55, 56, 57, 58, 59].map((i) => T0 + i * TICK_MS),
    );
  });

  it('reads the firing alert back from Alertmanager', async () => {
    const alerts = await results.alerts(network);
    expect(alerts).toEqual([
      expect.objectContaining({
        id: alert.id,
        kind: 'anomaly',
        status: 'firing',
        node: ANOMALOUS_NODE,
        cluster: 'c2',
        modality: 'temperature',
        startsAt: alert.startsAt,
        dashboardUrl: alert.dashboardUrl,
      }),
    ]);
    expect(alerts[0].probability).toBeCloseTo(0.94, 4);
  });

  it('announces a change only when a newer tick arrives', async () => {
    const changes: ResultChangeNotice[] = [];
    const unsubscribe = results.subscribe((change) => changes.push(change));
    try {
      await results.poll();
      expect(changes).toContainEqual({ kind: 'scores', network });
      changes.length = 0;
      await results.poll();
      expect(changes).toEqual([]);
      await sink.write(batchAt(60));
      await results.poll();
      expect(changes).toEqual([{ kind: 'scores', network }]);
    } finally {
      unsubscribe();
    }
  });

  it('serves the overview through the dashboard server', async () => {
    const body = (await (await fetch(`${server.url}/api/networks/${network}/overview`)).json()) as {
      topology: { nodes: unknown[] };
      clusters: unknown[];
      alerts: Array<{ node: string }>;
    };
    expect(body.topology.nodes).toHaveLength(12);
    expect(body.clusters).toHaveLength(3);
    expect(body.alerts.map((a) => a.node)).toEqual([ANOMALOUS_NODE]);
  });
});
