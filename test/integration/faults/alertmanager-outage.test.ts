import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import type { Alert } from '../../../common/types.ts';
import { AlertmanagerRoute } from '../../../detector/alerts/alertmanager.ts';
import { startAlertOutbox, webhookRoutes, type AlertOutbox } from '../../../detector/alerts/outbox.ts';
import { AlertTopicRoute } from '../../../detector/alerts/topic.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';
import { freePort } from '../../support/ports.ts';
import { runId } from '../foundation/services.ts';
import { ownAlertmanager, type OwnService } from './own-services.ts';
import { sleepUntilElapsed, waitFor } from '../../support/wait.ts';

// Fault scenario "Alertmanager stopped for 60 s while an alert fires and
// resolves": the detector's alerts topic is the outbox; Alertmanager (an
// instance of the suite's own) and a webhook receiver are both down while
// node a fires and node b fires and resolves. Once they are back, each gets
// every transition once, in order.

const OUTAGE_MS = 60_000;
const config = loadConfig();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A webhook receiver on a fixed port that can be taken down and brought back. */
function webhookReceiver(port: number) {
  const received: Alert[] = [];
  let server: Server | undefined;
  return {
    received,
    url: `http://127.0.0.1:${port}/hooks/T1/B2/fault-secret`,
    up: () =>
      new Promise<void>((resolve) => {
        server = createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            received.push(...(JSON.parse(Buffer.concat(chunks).toString()) as { alerts: Alert[] }).alerts);
            res.writeHead(200).end();
          });
        });
        server.listen(port, '127.0.0.1', resolve);
      }),
    down: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
        server = undefined;
      }),
  };
}

const transition = (node: string, status: Alert['status'], at: number): Alert => ({
  id: `fault/c1/${node}`,
  kind: 'anomaly',
  status,
  network: 'fault',
  cluster: 'c1',
  node,
  modality: 'temperature',
  probability: 0.97,
  startsAt: at - 120_000,
  ...(status === 'resolved' ? { endsAt: at - 60_000 } : {}),
  dashboardUrl: `http://127.0.0.1:8080/node/fault/${node}`,
});

describe('fault: Alertmanager and a webhook down for 60 s while alerts fire and resolve', () => {
  const id = runId();
  const topic = `fault.alerts.${id}`;
  const transport = new KafkaTransport({
    brokers: config.kafka.brokers,
    clientId: `fault-alerts-${id}`,
    retryBackoffMs: 200,
    logger: createLogger('fault-alerts', process.env.WSN_LOG_LEVEL ?? 'silent'),
  });
  let alertmanager: OwnService;
  let outbox: AlertOutbox | undefined;

  beforeAll(async () => {
    alertmanager = await ownAlertmanager();
    await alertmanager.start();
    await transport.ensureTopics([{ topic, partitions: 3 }]);
  });

  afterAll(async () => {
    await outbox?.close();
    await transport.close();
    const admin = new Kafka({
      brokers: config.kafka.brokers,
      clientId: `fault-admin-${id}`,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await alertmanager?.remove();
  });

  it('delivers every transition once and in order after the receivers come back', async () => {
    const webhook = webhookReceiver(await freePort());
    const fast = { retries: 1, minBackoffMs: 100, maxBackoffMs: 200, timeoutMs: 2_000 };
    const delivered = new Map<string, Alert[]>();
    const failures = new Map<string, number>();
    outbox = await startAlertOutbox({
      transport,
      topic,
      routes: [
        new AlertmanagerRoute({ url: alertmanager.address, retry: fast }),
        ...webhookRoutes([{ url: webhook.url }], fast),
      ],
      logger: createLogger('fault-outbox', 'silent'),
      groupPrefix: `fault-delivery-${id}`,
      onDelivered: (route, alerts) => delivered.set(route, [...(delivered.get(route) ?? []), ...alerts]),
      onFailure: (route) => failures.set(route, (failures.get(route) ?? 0) + 1),
    });

    // Both receivers down; then node a fires, node b fires and resolves.
    await alertmanager.stop();
    const downAt = Date.now();
    const producer = await transport.producer();
    const publish = new AlertTopicRoute(producer, topic);
    const now = Date.now();
    const sent = [transition('a', 'firing', now), transition('b', 'firing', now)];
    await publish.deliver(sent);
    await sleep(5_000);
    const resolved = transition('b', 'resolved', now + 5_000);
    await publish.deliver([resolved]);
    await producer.close();
    await sleepUntilElapsed(OUTAGE_MS, downAt);
    const downFor = Date.now() - downAt;
    expect(delivered.size).toBe(0);

    await alertmanager.start();
    await webhook.up();
    const route = (name: string) => [...delivered.keys()].find((k) => k.startsWith(name)) ?? '';
    await waitFor(
      'both receivers to get the three transitions',
      () => (delivered.get('alertmanager')?.length ?? 0) >= 3 && (delivered.get(route('webhook-'))?.length ?? 0) >= 3,
    );
    await sleep(3_000); // anything delivered twice would show up now
    await webhook.down();

    const summary = (alerts: Alert[]) => alerts.map((a) => `${a.node}:${a.status}`);
    const ofNode = (alerts: Alert[], node: string) => summary(alerts.filter((a) => a.node === node));
    for (const [name, alerts] of [
      ['alertmanager', delivered.get('alertmanager') ?? []],
      ['webhook (delivered)', delivered.get(route('webhook-')) ?? []],
      ['webhook (received)', webhook.received],
    ] as const) {
      expect(alerts, name).toHaveLength(3);
      expect(ofNode(alerts, 'a'), name).toEqual(['a:firing']);
      expect(ofNode(alerts, 'b'), name).toEqual(['b:firing', 'b:resolved']);
    }
    // Alertmanager itself: a fires, b came and went (resolved alerts are not listed as active).
    const active = (await (
      await fetch(`${alertmanager.address}/api/v2/alerts?filter=network%3D%22fault%22`)
    ).json()) as Array<{ labels: Record<string, string> }>;
    expect(active.map((a) => a.labels.node)).toEqual(['a']);
    expect(failures.get('alertmanager') ?? 0).toBeGreaterThan(0);
    process.stderr.write(
      `[fault suite] alertmanager outage: down ${Math.round(downFor / 1000)} s; 3 transitions published; alertmanager got ${delivered.get('alertmanager')?.length}, webhook got ${webhook.received.length} (failed attempts while down: alertmanager ${failures.get('alertmanager') ?? 0}, webhook ${failures.get(route('webhook-')) ?? 0})\n`,
    );
  });
});
