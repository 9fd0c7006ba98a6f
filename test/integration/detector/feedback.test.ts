import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createLogger } from '../../../common/log.ts';
import type { Subscription, TransportProducer } from '../../../common/transport.ts';
import type { Alert, Frame } from '../../../common/types.ts';
import { ClusterAlerts, alertPolicyFromConfig } from '../../../detector/alerts/tracker.ts';
import { DEFAULT_CONTEXT_CONFIG } from '../../../model/index.ts';
import { KafkaTransport } from '../../../transport/index.ts';
import { waitFor } from '../../support/wait.ts';
import {
  config,
  deleteTestTopics,
  influx,
  makeFrames,
  probeObservations,
  runCli,
  scrapeMetric,
  startDetector,
  T0,
  TICK_MS,
  tinyModel,
  uniqueId,
  type DetectorProcess,
} from './harness.ts';

// Operator feedback end to end on the real services: a node with a recurring false alarm (a threshold set low
// on purpose, so the node's ordinary wobble crosses it now and then), the `feedback` CLI marks its alert false
// on the feedback topic, the detector (child process, real small model) follows the topic and raises the
// node's threshold; over the same number of ticks its repeats fall; a real fault on that node still alerts.

const logger = createLogger('test', 'silent');
const transport = new KafkaTransport({ brokers: config.kafka.brokers, clientId: 'wsn-detector-it-feedback', logger });
let producer: TransportProducer;
let admin: Admin;
let reader: Subscription | undefined;
let detector: DetectorProcess | undefined;
const id = uniqueId();
const network = `it-feedback-${id}`;
const database = `wsn_it_feedback_${id}`;
const feedbackTopic = `it.feedback.${id}`;
const alertsTopic = `it.alerts.${id}`;
const WARMUP = DEFAULT_CONTEXT_CONFIG.warmupTicks;
/** Phases of the same length after the warm-up: before the mark, after it, then a real fault. */
const PHASE = 50;
const FAULT = 20;
/** A resolve level close to the threshold, so a false alarm resolves soon and can repeat. */
const RESOLVE_RATIO = 0.9;
const NODE = '1';

const cli = (args: string[]): string =>
  runCli('feedback', args, { WSN_NETWORK: network, WSN_FEEDBACK_TOPIC: feedbackTopic, WSN_INFLUX_DATABASE: database });

const metricLine = (name: string, labels = ''): Promise<number> => scrapeMetric(detector!.port, name, labels);

const tickOf = (index: number): number => T0 + index * TICK_MS;

/**
 * The threshold that makes the node's ordinary wobble fire most often in the first phase (two ticks in a
 * row above it, resolving after two ticks under RESOLVE_RATIO of it), from the model's own probabilities.
 */
async function recurringThreshold(frames: Frame[]): Promise<{ threshold: number; expected: number }> {
  const observations = await probeObservations(frames);
  const ticks = [...observations.keys()].filter((t) => t >= tickOf(WARMUP) && t < tickOf(WARMUP + PHASE)).sort();
  const candidates = [...new Set(ticks.map((t) => observations.get(t)!.find((o) => o.node === NODE)!.probability!))];
  let best = { threshold: 1, expected: 0 };
  for (const candidate of candidates) {
    const threshold = candidate - 1e-6;
    const policy = alertPolicyFromConfig({
      ...config,
      detector: {
        ...config.detector,
        threshold,
        resolveRatio: RESOLVE_RATIO,
        alertAfterTicks: 2,
        resolveAfterTicks: 2,
      },
    });
    const alerts = new ClusterAlerts(network, 'c0', policy);
    let fired = 0;
    for (const tick of ticks)
      fired += alerts
        .observe(tick, observations.get(tick)!)
        .filter((a) => a.node === NODE && a.status === 'firing').length;
    if (fired > best.expected || (fired === best.expected && threshold > best.threshold))
      best = { threshold, expected: fired };
  }
  return best;
}

beforeAll(async () => {
  producer = await transport.producer();
  admin = new Kafka({
    clientId: 'wsn-it-feedback-admin',
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
});

afterAll(async () => {
  if (detector && detector.child.exitCode === null) detector.child.kill('SIGKILL');
  await reader?.close();
  await producer?.close();
  await transport.close();
  // This admin has the test's topics in its metadata: disconnect it before they are deleted.
  await admin.disconnect();
  await deleteTestTopics([id], [feedbackTopic]);
  await influx(database)
    .dropDatabase()
    .catch(() => undefined);
});

describe('operator feedback (real Kafka and InfluxDB; detector and CLI as child processes)', () => {
  it('a repeated false alarm marked false: its repeats fall over the same number of ticks; a real fault on the node still alerts', async () => {
    const last = WARMUP + 2 * PHASE + FAULT;
    const frames = makeFrames(network, 1, 0, last, {
      surge: { cluster: 0, node: 0, ticks: [WARMUP + 2 * PHASE, last] },
    });
    expect(frames[0].nodes[0].node).toBe(NODE);
    const plan = await recurringThreshold(frames);
    // The premise: without feedback the node's wobble alerts again and again.
    expect(plan.expected).toBeGreaterThanOrEqual(3);

    await transport.ensureTopics([{ topic: `it.frames.${id}`, partitions: 4 }]);
    detector = await startDetector({
      id,
      group: `it-detector-feedback-${id}`,
      replicaId: 'feedback',
      database,
      model: tinyModel(),
      threshold: plan.threshold,
      alertmanager: false,
      env: {
        WSN_RESOLVE_RATIO: String(RESOLVE_RATIO),
        WSN_FEEDBACK_TOPIC: feedbackTopic,
        WSN_FEEDBACK_REFRESH_MS: '500',
      },
    });
    expect(await metricLine('wsn_detector_feedback_raises')).toBe(0);

    // Every alert transition the detector publishes, in order.
    const transitions: Alert[] = [];
    reader = await transport.subscribe({
      groupId: `it-feedback-reader-${id}`,
      topics: [alertsTopic],
      fromBeginning: true,
      onBatch: async (batch) => {
        for (const message of batch.messages) transitions.push(JSON.parse(message.value!.toString()) as Alert);
      },
    });
    const processed = async (ticks: number) => {
      await waitFor(
        `the detector to process ${ticks} ticks`,
        async () => (await metricLine('wsn_detector_frames_total', 'outcome="processed"')) >= ticks,
        180_000,
      );
      const ends = await admin.fetchTopicOffsets(alertsTopic);
      const published = ends.reduce((sum, p) => sum + Number(p.high), 0);
      await waitFor('the alerts topic read to its end', async () => transitions.length >= published, 30_000);
    };
    /** Firings of the node whose alert started at a tick in [from, to). */
    const firings = (from: number, to: number) =>
      transitions.filter(
        (a) => a.node === NODE && a.status === 'firing' && a.startsAt >= tickOf(from) && a.startsAt < tickOf(to),
      );
    const send = (from: number, to: number) =>
      producer.send(
        `it.frames.${id}`,
        frames
          .filter((f) => f.tick >= tickOf(from) && f.tick < tickOf(to))
          .map((frame) => ({ key: frame.cluster, value: JSON.stringify(frame) })),
      );

    // Phase 1: the recurring false alarm.
    await send(0, WARMUP + PHASE);
    await processed(WARMUP + PHASE);
    const before = firings(WARMUP, WARMUP + PHASE);
    expect(before.length).toBeGreaterThanOrEqual(3);

    // The operator marks it false; the detector raises the node's threshold above the alert's peak.
    const alertId = `${network}/c0/${NODE}`;
    const marked = cli([
      'mark',
      '--alert',
      alertId,
      '--false',
      '--note',
      'harmless wobble',
      '--by',
      'it-test',
      '--alerts-topic',
      alertsTopic,
    ]);
    expect(marked).toMatch(
      new RegExp(
        `^${alertId}\\talert ${alertId} \\(node ${NODE}, \\w+, peak 0\\.\\d{3}, .*marked a false alarm: node ${NODE}'s \\w+ alerts need p > 0\\.\\d{3} until `,
      ),
    );
    expect(cli(['list'])).toMatch(
      new RegExp(`${alertId}\\s+false alarm\\s+${NODE}\\s+\\w+\\s+0\\.\\d{3}.*it-test\\s+harmless wobble`),
    );
    await waitFor(
      'the detector to apply the mark',
      async () => (await metricLine('wsn_detector_feedback_raises')) === 1,
      30_000,
    );
    const raised = await metricLine('wsn_detector_node_threshold', `node="${NODE}"`);
    expect(raised).toBeGreaterThan(plan.threshold);
    expect(raised).toBeLessThanOrEqual(config.feedback.maxThreshold);

    // Phase 2, as many ticks: the same kind of wobble, fewer alerts.
    await send(WARMUP + PHASE, WARMUP + 2 * PHASE);
    await processed(WARMUP + 2 * PHASE);
    const after = firings(WARMUP + PHASE, WARMUP + 2 * PHASE);
    expect(after.length).toBeLessThan(before.length);

    // Phase 3: a real fault on the same node (+40 % RH) still alerts over the raised threshold.
    await send(WARMUP + 2 * PHASE, last + 1);
    await processed(last + 1);
    expect(firings(WARMUP + 2 * PHASE, last + 1).length).toBeGreaterThanOrEqual(1);

    // The mark is in InfluxDB for the dashboards and a later retraining.
    const points = await influx(database).query<{ node: string; verdict: string; note: string; author: string }>(
      `SELECT "node", "verdict", "note", "author" FROM "feedback" WHERE "alert" = '${alertId}'`,
    );
    expect([...points]).toEqual([
      expect.objectContaining({ node: NODE, verdict: 'false', note: 'harmless wobble', author: 'it-test' }),
    ]);
    process.stdout.write(
      `feedback e2e: threshold ${plan.threshold.toFixed(3)} raised to ${raised.toFixed(3)}; node ${NODE} fired ${before.length}× in ${PHASE} ticks before the mark, ${after.length}× in ${PHASE} ticks after\n`,
    );

    detector.child.kill('SIGTERM');
    expect((await detector.exited).code).toBe(0);
  });
});
