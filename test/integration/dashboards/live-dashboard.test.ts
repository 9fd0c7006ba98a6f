/**
 * The built-in live dashboard in real headless Chromium: the page draws the
 * lab network, an SSE push turns node 7 red and lists its alert, and a click
 * opens its readings against the model's reconstruction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { MemoryResultStore } from '../../../store/memory.ts';
import { startDashboardServer, type DashboardServer } from '../../../dashboards/web/server.ts';
import { staticTopology, type DashboardResults } from '../../../store/results.ts';
import { openChromium, type TestBrowser } from '../../support/browser.ts';
import { ANOMALOUS_NODE, LAB_TOPOLOGY, NETWORK, THRESHOLD, labBatch } from './lab-network.ts';

const HISTORY_TICKS = 60;
const ANOMALY_FROM = 56;

describe('built-in live dashboard in Chromium', () => {
  let store: MemoryResultStore;
  let server: DashboardServer;
  let browser: TestBrowser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];
  let shotDir: string;

  beforeAll(async () => {
    store = new MemoryResultStore();
    // The embedded store is the dashboard's data source as it is, without an adapter.
    const results: DashboardResults = store;
    for (let i = 0; i < ANOMALY_FROM; i++) await store.write(labBatch(i));
    server = await startDashboardServer({
      store: results,
      topology: staticTopology([LAB_TOPOLOGY]),
      host: '127.0.0.1',
      port: 0,
      threshold: THRESHOLD,
    });
    shotDir = await mkdtemp(path.join(tmpdir(), 'wsn-shots-'));
    browser = await openChromium({ width: 1440, height: 1100 });
    ({ context, page, pageErrors } = browser);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the network healthy before the anomaly', async () => {
    await page.goto(`${server.url}/`);
    await page.locator('#status[data-state="live"]').waitFor();
    // The re-read that follows the stream's hello has landed: later updates are ours.
    await page.waitForFunction(() => Number(document.body.dataset.updates ?? '0') >= 1);
    await page.locator(`#map g.node[data-node="${ANOMALOUS_NODE}"]`).waitFor();
    expect(await page.locator('#map g.node').count()).toBe(LAB_TOPOLOGY.nodes.length);
    expect(await page.locator('#map g.node.state-anomalous').count()).toBe(0);
    expect(await page.locator('#map path.cluster-area').count()).toBe(3);
    await expect.poll(() => page.locator('#alerts li.empty').count(), { timeout: 10_000 }).toBe(1);
  });

  it('turns the anomalous node red and lists its alert after an SSE push', async () => {
    const before = Number((await page.locator('body').getAttribute('data-updates')) ?? '0');
    for (let i = ANOMALY_FROM; i < HISTORY_TICKS; i++) await store.write(labBatch(i, ANOMALY_FROM));
    await page.waitForFunction((n) => Number(document.body.dataset.updates ?? '0') > n, before);
    const node = page.locator(`#map g.node[data-node="${ANOMALOUS_NODE}"]`);
    // The newest tick's verdict (a coalesced re-read may first show an earlier one).
    await expect.poll(() => node.getAttribute('data-probability'), { timeout: 10_000 }).toBe('0.940');
    expect(await node.getAttribute('class')).toContain('state-anomalous');
    const fill = await node.locator('circle.body').getAttribute('fill');
    const [r, g] = (fill ?? '').match(/\d+/g)!.map(Number);
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(120);
    // Every other node stays normal.
    expect(await page.locator('#map g.node.state-anomalous').count()).toBe(1);

    const alert = page.locator(`#alerts li.alert.firing[data-node="${ANOMALOUS_NODE}"]`);
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/Node 7 · temperature[\s\S]*p 0\.94[\s\S]*c2 · firing since/);
    expect(await page.locator('#alert-count').innerText()).toBe('1');
    expect(await alert.locator('a').getAttribute('href')).toBe(`/node/${NETWORK}/${ANOMALOUS_NODE}`);
    // It heads the ranking, and its cluster is the unhealthy one.
    expect(await page.locator('#top-nodes li').first().getAttribute('data-node')).toBe(ANOMALOUS_NODE);
    expect(await page.locator('#clusters li[data-cluster="c2"] .value').innerText()).toBe('0.94');
  });

  it('opens the node drill-down on click, with readings against the reconstruction', async () => {
    // The body circle, not the group: the pulsing halo makes the group's box move.
    await page.locator(`#map g.node[data-node="${ANOMALOUS_NODE}"] circle.body`).click();
    await page.locator(`#node-panel[data-node="${ANOMALOUS_NODE}"]`).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/node/${NETWORK}/${ANOMALOUS_NODE}`);
    const modalities = await page
      .locator('#charts figure.chart')
      .evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.modality));
    expect(modalities).toEqual(['temperature', 'humidity', 'light', 'voltage', 'probability']);
    for (const modality of ['temperature', 'humidity', 'light', 'voltage']) {
      const chart = page.locator(`#charts figure[data-modality="${modality}"]`);
      for (const series of ['measured', 'reconstruction']) {
        const d = (await chart.locator(`path[data-series="${series}"]`).getAttribute('d')) ?? '';
        // One point per stored tick: the whole history is drawn.
        expect(d.match(/[ML]/g)?.length).toBe(HISTORY_TICKS);
      }
    }
    // The anomalous ticks are shaded in the charts.
    expect(await page.locator('#charts figure[data-modality="temperature"] rect.anomalous-band').count()).toBe(
      HISTORY_TICKS - ANOMALY_FROM,
    );
    expect(await page.locator('#node-meta').innerText()).toContain('probability 0.94');
    await page.locator(`#map g.node.selected[data-node="${ANOMALOUS_NODE}"]`).waitFor();

    const shot = path.join(process.env.WSN_SCREENSHOT_DIR ?? shotDir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect((await stat(shot)).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);
  });

  it('starts empty on a fresh deployment and shows the first results as they arrive', async () => {
    const empty = new MemoryResultStore();
    const fresh = await startDashboardServer({
      store: empty,
      topology: staticTopology([]),
      port: 0,
      threshold: THRESHOLD,
    });
    const tab = await context.newPage();
    try {
      await tab.goto(`${fresh.url}/`);
      await tab.locator('#status[data-state="live"]').waitFor();
      expect(await tab.locator('#summary').innerText()).toContain('No results yet');
      expect(await tab.locator('#map g.node').count()).toBe(0);
      await empty.write(labBatch(0));
      // Without a topology the nodes are laid out on a grid per cluster.
      await expect.poll(() => tab.locator('#map g.node').count(), { timeout: 10_000 }).toBe(LAB_TOPOLOGY.nodes.length);
      expect(await tab.locator('#network').inputValue()).toBe(NETWORK);
      expect(await tab.locator('#map path.cluster-area').count()).toBe(3);
    } finally {
      await tab.close();
      await fresh.close();
    }
  });

  it('loads the drill-down directly from an alert link', async () => {
    const fresh = await context.newPage();
    await fresh.goto(`${server.url}/node/${NETWORK}/${ANOMALOUS_NODE}`);
    await fresh.locator(`#node-panel[data-node="${ANOMALOUS_NODE}"] figure[data-modality="temperature"]`).waitFor();
    expect(await fresh.locator('#node-title').innerText()).toBe(`Node ${ANOMALOUS_NODE}`);
    await fresh.close();
  });
});
