/**
 * Operator feedback on the built-in dashboard, in real headless Chromium,
 * over the real InfluxDB, Alertmanager and Kafka: the alert list shows
 * "false alarm" and "confirm" buttons when the dashboard has a feedback token;
 * a click asks for the token, POSTs the mark, and the mark lands on the
 * feedback topic and in InfluxDB, and shows on the alert and in the
 * Operator feedback list without a reload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../../common/config.ts';
import { decodeFeedback } from '../../../common/feedback.ts';
import { createLogger } from '../../../common/log.ts';
import type { Alert } from '../../../common/types.ts';
import { startDashboardServer, type DashboardServer } from '../../../dashboards/web/server.ts';
import { AlertmanagerRoute } from '../../../detector/alerts/alertmanager.ts';
import { FeedbackRecorder } from '../../../detector/feedback/record.ts';
import { InfluxDashboardResults } from '../../../store/influx-results.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { writeNodePositions } from '../../../store/node-positions.ts';
import { createTransport } from '../../../transport/index.ts';
import { ANOMALOUS_NODE, LAB_TOPOLOGY, T0, THRESHOLD, TICK_MS, labBatch } from './lab-network.ts';

const suffix = `${process.pid}_${Date.now()}`;
const network = `lab-feedback-${suffix}`;
const database = `wsn_dash_feedback_${suffix}`;
const topic = `it.feedback.dash.${suffix}`;
const TOKEN = `dash-token-${suffix}-0123456789`;
const config = loadConfig({
  env: {
    ...process.env,
    WSN_CONFIG: '',
    WSN_INFLUX_DATABASE: database,
    WSN_FEEDBACK_TOPIC: topic,
    WSN_FEEDBACK_TOKEN: TOKEN,
  },
});
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];

describe('operator feedback on the built-in dashboard (Chromium, InfluxDB, Alertmanager, Kafka)', () => {
  const sink = new InfluxSink({ url: config.influx.url, database, retries: 1 });
  const transport = createTransport(config, { logger: createLogger('test', 'silent') });
  const recorder = new FeedbackRecorder(config, transport);
  const alertmanager = new AlertmanagerRoute({ url: config.alertmanager.url });
  const cluster = LAB_TOPOLOGY.nodes.find((n) => n.node === ANOMALOUS_NODE)!.cluster;
  const alert: Alert = {
    id: `${network}/${cluster}/${ANOMALOUS_NODE}`,
    kind: 'anomaly',
    status: 'firing',
    network,
    cluster,
    node: ANOMALOUS_NODE,
    modality: 'temperature',
    probability: 0.74,
    startsAt: T0 + 3 * TICK_MS,
    dashboardUrl: `/node/${network}/${ANOMALOUS_NODE}`,
  };
  let results: InfluxDashboardResults;
  let server: DashboardServer;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 6; i++) {
      const batch = labBatch(i);
      await sink.write({
        frames: batch.frames.map((f) => ({ ...f, network })),
        scores: batch.scores.map((s) => ({ ...s, network })),
        alerts: [],
      });
    }
    await writeNodePositions(sink, { ...LAB_TOPOLOGY, network }, T0);
    await alertmanager.deliver([alert]);
    results = new InfluxDashboardResults({
      url: config.influx.url,
      database,
      alertmanagerUrl: config.alertmanager.url,
      pollMs: 300,
    });
    server = await startDashboardServer({
      store: results,
      topology: results,
      port: 0,
      threshold: THRESHOLD,
      feedback: { token: TOKEN, mark: (input, lookup, author) => recorder.mark(input, lookup, author) },
    });
    profileDir = await mkdtemp(path.join(tmpdir(), 'wsn-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 1000 },
    });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await rm(profileDir, { recursive: true, force: true });
    await alertmanager.deliver([{ ...alert, status: 'resolved', endsAt: Date.now() - 1_000 }]).catch(() => undefined);
    await recorder.close();
    await transport.close();
    const admin = new Kafka({
      clientId: 'wsn-it-feedback-dash',
      brokers: config.kafka.brokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    if ((await admin.listTopics()).includes(topic)) await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
    await sink.dropDatabase().catch(() => undefined);
  });

  it('a click on "false alarm" asks for the token, marks the alert, and shows the mark without a reload', async () => {
    await page.goto(`${server.url}/?network=${network}`);
    await page.locator('#status[data-state="live"]').waitFor();
    const item = page.locator(`#alerts li.alert[data-node="${ANOMALOUS_NODE}"]`);
    await item.waitFor();
    expect(await page.locator('#feedback li.empty').count()).toBe(1);
    // A wrong token first: refused, nothing written.
    page.once('dialog', (dialog) => void dialog.accept('not-the-token'));
    await item.locator('button[data-verdict="false"]').click();
    await item.locator('.feedback-result.error').waitFor();
    expect(await item.locator('.feedback-result').innerText()).toContain(
      'not marked: a valid bearer token is required',
    );
    expect(await recorder.list()).toEqual([]);

    await page.reload();
    await item.locator('button[data-verdict="false"]').waitFor();
    page.once('dialog', (dialog) => void dialog.accept(TOKEN));
    await item.locator('button[data-verdict="false"]').click();
    await page.locator(`#feedback li.mark.false-alarm[data-alert="${alert.id}"]`).waitFor({ timeout: 15_000 });
    expect(await page.locator('#feedback li.mark').innerText()).toMatch(
      /Node 7 · false alarm[\s\S]*temperature · peak 0\.74 · by dashboard/,
    );
    await item.locator('.feedback-mark.false-alarm').waitFor();
    expect(await item.locator('.feedback-mark').innerText()).toBe('marked false alarm by dashboard');

    const [stored] = await recorder.list();
    expect(stored).toMatchObject({ alertId: alert.id, verdict: 'false', node: ANOMALOUS_NODE, probability: 0.74 });
    expect(decodeFeedback(JSON.stringify(stored))).toEqual(stored);
    const points = await sink.query<{ verdict: string; author: string }>(
      `SELECT "verdict", "author" FROM "feedback" WHERE "alert" = '${alert.id}'`,
    );
    expect([...points]).toEqual([expect.objectContaining({ verdict: 'false', author: 'dashboard' })]);

    // The token is kept for the tab: "confirm" asks no more and turns the mark into a confirmation.
    let asked = false;
    page.once('dialog', (dialog) => {
      asked = true;
      void dialog.dismiss();
    });
    await item.locator('button[data-verdict="true"]').click();
    await page.locator(`#feedback li.mark.confirmed[data-alert="${alert.id}"]`).waitFor({ timeout: 15_000 });
    expect(asked).toBe(false);
    expect((await recorder.list())[0].verdict).toBe('true');
    // One episode, one mark: the confirmation replaced the false alarm, on the topic and in InfluxDB.
    expect(await page.locator('#feedback li.mark').count()).toBe(1);
    expect(await recorder.list()).toHaveLength(1);
    if (process.env.WSN_SCREENSHOT_DIR)
      await page.screenshot({ path: path.join(process.env.WSN_SCREENSHOT_DIR, 'dashboard-feedback.png') });
    expect(pageErrors).toEqual([]);
  });
});
