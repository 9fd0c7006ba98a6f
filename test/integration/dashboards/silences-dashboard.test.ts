/**
 * Maintenance silences on the built-in dashboard, in real headless Chromium,
 * over the real InfluxDB: the silence points `wsn-watch silence` writes show
 * as a list and as a badge on the node; expiring the silence removes both
 * after the next poll, pushed over Server-Sent Events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { loadConfig } from '../../../common/config.ts';
import type { Silence } from '../../../common/silences.ts';
import { startDashboardServer, type DashboardServer } from '../../../dashboards/web/server.ts';
import { InfluxDashboardResults } from '../../../store/influx-results.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { writeNodePositions } from '../../../store/node-positions.ts';
import { silencePoint } from '../../../store/silences.ts';
import { openChromium, type TestBrowser } from '../../support/browser.ts';
import { ANOMALOUS_NODE, LAB_TOPOLOGY, NETWORK, T0, THRESHOLD, labBatch } from './lab-network.ts';

const config = loadConfig({ env: { ...process.env, WSN_CONFIG: '' } });
const database = `wsn_dash_silences_${process.pid}_${Date.now()}`;
const H = 3_600_000;

describe('maintenance silences on the built-in dashboard (Chromium, InfluxDB)', () => {
  const sink = new InfluxSink({ url: config.influx.url, database, retries: 1 });
  const now = Date.now();
  const active: Silence = {
    id: 'sil-0000a001',
    network: NETWORK,
    node: ANOMALOUS_NODE,
    startsAt: now - 60_000,
    endsAt: now + 2 * H,
    reason: 'battery swap',
    author: 'ana',
    createdAt: now - 60_000,
  };
  // Already over: never shown.
  const over: Silence = { ...active, id: 'sil-0000a002', node: '3', startsAt: now - 3 * H, endsAt: now - H };
  let results: InfluxDashboardResults;
  let server: DashboardServer;
  let browser: TestBrowser;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    for (let i = 0; i < 6; i++) await sink.write(labBatch(i));
    await writeNodePositions(sink, LAB_TOPOLOGY, T0);
    await sink.writePoints([silencePoint(active), silencePoint(over)]);
    results = new InfluxDashboardResults({ url: config.influx.url, database, pollMs: 300 });
    server = await startDashboardServer({ store: results, topology: results, port: 0, threshold: THRESHOLD });
    browser = await openChromium({ width: 1440, height: 1000 });
    ({ page, pageErrors } = browser);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await sink.dropDatabase().catch(() => undefined);
  });

  it('the overview API lists the silences in force', async () => {
    const overview = (await (await fetch(`${server.url}/api/networks/${NETWORK}/overview`)).json()) as {
      silences: Silence[];
    };
    expect(overview.silences).toEqual([active]);
  });

  it('lists the active silence and badges the silenced node on the map', async () => {
    await page.goto(`${server.url}/?network=${NETWORK}`);
    await page.locator('#status[data-state="live"]').waitFor();
    const item = page.locator(`#silences li.silence[data-node="${ANOMALOUS_NODE}"]`);
    await item.waitFor();
    expect(await item.innerText()).toMatch(
      /Node 7 · all alerts[\s\S]*until [\s\S]*UTC[\s\S]*battery swap · by ana · sil-0000a001/,
    );
    expect(await page.locator('#silence-count').innerText()).toBe('1');
    expect(await page.locator('#silences li.silence').count()).toBe(1);
    const node = page.locator(`#map g.node[data-node="${ANOMALOUS_NODE}"]`);
    expect(await node.getAttribute('class')).toContain('silenced');
    expect(await node.locator('.silence-badge').count()).toBe(1);
    expect(await node.locator('title').textContent()).toContain('silenced: battery swap');
    // Only that node.
    expect(await page.locator('#map g.node.silenced').count()).toBe(1);
    if (process.env.WSN_SCREENSHOT_DIR)
      await page.screenshot({ path: path.join(process.env.WSN_SCREENSHOT_DIR, 'dashboard-silence.png') });
  });

  it('expiring the silence (its point rewritten with the new end) clears list and badge without a reload', async () => {
    await sink.writePoints([silencePoint({ ...active, endsAt: Date.now(), expiredAt: Date.now() })]);
    await page.locator('#silences li.empty').waitFor({ timeout: 15_000 });
    expect(await page.locator('#silence-count').innerText()).toBe('0');
    expect(await page.locator('#map g.node.silenced').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
