import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.ts';
import type { TransportProducer } from '../../../common/transport.ts';
import type { Alert, Frame } from '../../../common/types.ts';
import { ClusterAlerts, alertPolicyFromConfig } from '../../../detector/alerts/tracker.ts';
import { DEFAULT_CONTEXT_CONFIG } from '../../../model/index.ts';
import { KafkaTransport } from '../../../transport/index.ts';
import {
  config,
  deleteTestTopics,
  influx,
  makeFrames,
  probeObservations,
  startDetector,
  T0,
  TICK_MS,
  tinyModel,
  uniqueId,
  type DetectorProcess,
} from './harness.ts';
import { waitFor } from '../../support/wait.ts';

// Real Kafka, InfluxDB and Alertmanager; the detector runs as a child process with the real (small) model.
interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

const logger = createLogger('test', 'silent');
const transport = new KafkaTransport({ brokers: config.kafka.brokers, clientId: 'wsn-detector-it-alerts', logger });
let producer: TransportProducer;
let detector: DetectorProcess | undefined;
const testIds: string[] = [];

beforeAll(async () => {
  producer = await transport.producer();
});

afterAll(async () => {
  if (detector && detector.child.exitCode === null) detector.child.kill('SIGKILL');
  await producer?.close();
  await transport.close();
  await deleteTestTopics(testIds);
});

async function alertsFor(network: string, node: string): Promise<GettableAlert[]> {
  const params = new URLSearchParams();
  params.append('filter', `network="${network}"`);
  params.append('filter', `node="${node}"`);
  const response = await fetch(`${config.alertmanager.url}/api/v2/alerts?${params}`);
  expect(response.status).toBe(200);
  return (await response.json()) as GettableAlert[];
}

/** The model's context warm-up (DEFAULT_CONTEXT_CONFIG.warmupTicks): the detector's first verdicts come after it. */
const WARMUP_TICKS = DEFAULT_CONTEXT_CONFIG.warmupTicks;

/**
 * Scores the frames once with the model, then replays the target cluster's
 * probabilities through the alert state machine for candidate thresholds
 * (midpoints between the target node's distinct probabilities, so float
 * noise between runs cannot flip a tick) and returns one under which the
 * target node fires an anomaly alert and then resolves it. The test streams
 * frames only up to that resolution, so nothing can fire again after it.
 */
async function pickThreshold(
  frames: Frame[],
  target: { cluster: string; node: string },
): Promise<{ threshold: number; fired: Alert; firedAt: number; resolvedAt: number }> {
  const observations = await probeObservations(frames, target.cluster);
  // The detector gives no verdict before a cluster's slow context has warmed up: neither does the replay here.
  const ticks = [...observations.keys()].filter((tick) => tick >= T0 + WARMUP_TICKS * TICK_MS).sort((a, b) => a - b);
  const values = [
    ...new Set(ticks.map((tick) => observations.get(tick)!.find((o) => o.node === target.node)!.probability ?? 0)),
  ].sort((a, b) => b - a);
  for (let i = 0; i + 1 < values.length; i++) {
    const threshold = (values[i] + values[i + 1]) / 2;
    const policy = alertPolicyFromConfig({
      ...config,
      detector: { ...config.detector, threshold, alertAfterTicks: 2, resolveAfterTicks: 2 },
    });
    const alerts = new ClusterAlerts(frames[0].network, target.cluster, policy);
    let fired: Alert | undefined;
    let firedAt = -1;
    for (const tick of ticks) {
      for (const alert of alerts.observe(tick, observations.get(tick)!)) {
        if (alert.node !== target.node || alert.kind !== 'anomaly') continue;
        if (alert.status === 'firing' && !fired) {
          fired = alert;
          firedAt = tick;
        } else if (alert.status === 'resolved' && fired) {
          return { threshold, fired, firedAt, resolvedAt: tick };
        }
      }
    }
  }
  throw new Error(`no threshold makes node ${target.node} fire and resolve; its probabilities: ${values.join(', ')}`);
}

describe('alerts reach Alertmanager (real Alertmanager, Kafka, InfluxDB)', () => {
  it('a node whose probability stays high fires an alert with network/cluster/node/modality labels, which then resolves', async () => {
    const id = uniqueId();
    testIds.push(id);
    const network = `it-alerts-${id}`;
    const database = `wsn_it_alerts_${id}`;
    const frames = makeFrames(network, 2, 0, WARMUP_TICKS + 40, {
      surge: { cluster: 0, node: 0, ticks: [WARMUP_TICKS + 18, WARMUP_TICKS + 24] },
    });
    const target = { cluster: 'c0', node: frames[0].nodes[0].node };
    const plan = await pickThreshold(frames, target);
    await transport.ensureTopics([{ topic: `it.frames.${id}`, partitions: 4 }]);
    detector = await startDetector({
      id,
      group: `it-detector-alerts-${id}`,
      replicaId: 'alerts',
      database,
      model: tinyModel(),
      threshold: plan.threshold,
    });

    const send = (list: Frame[]) =>
      producer.send(
        `it.frames.${id}`,
        list.map((frame) => ({ key: frame.cluster, value: JSON.stringify(frame) })),
      );
    // Up to the tick the alert fires at: Alertmanager must show it firing.
    await send(frames.filter((f) => f.tick <= plan.firedAt));
    await waitFor('the alert in Alertmanager', async () => (await alertsFor(network, target.node)).length > 0, 120_000);
    const [firing] = await alertsFor(network, target.node);
    expect(firing.labels).toEqual({
      alertname: 'WsnNodeAnomaly',
      network,
      cluster: target.cluster,
      node: target.node,
      modality: plan.fired.modality,
      severity: 'critical',
    });
    expect(firing.status.state).toBe('active');
    expect(new Date(firing.startsAt).getTime()).toBe(plan.fired.startsAt);
    expect(new Date(firing.endsAt).getTime()).toBeGreaterThan(Date.now());
    expect(firing.annotations.dashboard).toBe(
      `${config.dashboard.publicUrl.replace(/\/+$/, '')}/node/${network}/${target.node}`,
    );
    expect(Number(firing.annotations.probability)).toBeGreaterThan(plan.threshold);

    // The rest of the stream brings the node back below the lower threshold: the alert resolves
    // (endsAt in the past, so Alertmanager no longer lists it as active).
    await send(frames.filter((f) => f.tick > plan.firedAt && f.tick <= plan.resolvedAt));
    await waitFor(
      'the alert to resolve in Alertmanager',
      async () => (await alertsFor(network, target.node)).length === 0,
      120_000,
    );

    detector.child.kill('SIGTERM');
    expect((await detector.exited).code).toBe(0);
    await influx(database).dropDatabase();
  });
});
