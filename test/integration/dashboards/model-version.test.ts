/**
 * The model version in use on the built-in dashboard, in real headless
 * Chromium over the real InfluxDB: the version tag of the points the detector
 * writes shows in the top bar; while a swap is under way (clusters on either
 * side of it) both versions show, and after it only the new one, pushed
 * without a reload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { startDashboardServer, type DashboardServer } from '../../../dashboards/web/server.ts';
import { InfluxDashboardResults } from '../../../store/influx-results.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { writeNodePositions } from '../../../store/node-positions.ts';
import { openChromium, type TestBrowser } from '../../support/browser.ts';
import { LAB_TOPOLOGY, NETWORK, T0, THRESHOLD, labBatch } from './lab-network.ts';

const config = loadConfig({ env: { ...process.env, WSN_CONFIG: '' } });
const database = `wsn_dash_model_${process.pid}_${Date.now()}`;

/** Lab ticks from..to, each cluster's scores tagged with the version `versionOf` gives it. */
async function writeTicks(
  sink: InfluxSink,
  from: number,
  to: number,
  versionOf: (cluster: string) => string,
): Promise<void> {
  for (let i = from; i <= to; i++) {
    const batch = labBatch(i);
    for (const score of batch.scores) score.model = versionOf(score.cluster);
    await sink.write(batch);
  }
}

describe('model version on the built-in dashboard (Chromium, InfluxDB)', () => {
  const sink = new InfluxSink({ url: config.influx.url, database, retries: 1 });
  let results: InfluxDashboardResults;
  let server: DashboardServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    await writeTicks(sink, 0, 5, () => 'v1');
    await writeNodePositions(sink, LAB_TOPOLOGY, T0);
    results = new InfluxDashboardResults({ url: config.influx.url, database, pollMs: 300 });
    server = await startDashboardServer({ store: results, topology: results, port: 0, threshold: THRESHOLD });
    browser = await openChromium({ width: 1440, height: 1000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await sink.dropDatabase().catch(() => undefined);
  });

  it('shows the version that scored the newest ticks, both during a swap, the new one after it', async () => {
    const { page, pageErrors } = browser;
    const badge = page.locator('#model-version');
    await page.goto(`${server.url}/`);
    await expect.poll(() => badge.innerText(), { timeout: 15_000 }).toBe('model v1');
    // Cluster c1 has reached the switch tick, the others have not yet.
    await writeTicks(sink, 6, 6, (cluster) => (cluster === 'c1' ? 'v2' : 'v1'));
    await expect.poll(() => badge.innerText(), { timeout: 15_000 }).toBe('models v1, v2');
    await writeTicks(sink, 7, 8, () => 'v2');
    await expect.poll(() => badge.innerText(), { timeout: 15_000 }).toBe('model v2');
    const overview = (await (await fetch(`${server.url}/api/networks/${NETWORK}/overview`)).json()) as {
      clusters: Array<{ cluster: string; model?: string }>;
    };
    expect(overview.clusters.map((c) => c.model)).toEqual(['v2', 'v2', 'v2']);
    expect(pageErrors).toEqual([]);
  });
});
