import { describe, expect, it } from 'vitest';
import { StreamInjector, parseInjection } from '../../../sources/stream-inject.ts';
import { ibrlToReading, streamIbrl } from '../../../sources/ibrl-reader.ts';
import { FIRST_EPOCH, LAST_EPOCH, SLICE_ALERTS as ALERTS, WINDOW } from './ibrl-slice.ts';
import { type Pipeline, TICK_MS, alertsOf, expectFlaggedAfterInjection, type DetectorRun } from './pipeline.ts';
import { waitFor } from '../../support/wait.ts';
import { useSlicePipeline } from './slice-fixture.ts';
import { scoredClusterTicks } from '../../support/influx.ts';

// IBRL replayed through the whole pipeline on the real services:
// `wsn-watch replay ibrl` → Kafka → ingest → Kafka → `wsn-watch detect` → InfluxDB, Alertmanager.

/**
 * A surge of +20 °C (the modality's range) on one mote's temperature for 5 of
 * its readings (the paper's anomaly length), 200 rounds into the slice. The
 * model centres each window on its mean, so a level shift is seen by its
 * edges: a surge shorter than the window keeps an edge in every window that
 * overlaps it. (A surge as long as the window would, for the ticks whose
 * window lies entirely inside it, look normal — measured: a 10-reading surge
 * with this 10-tick window fires, resolves and fires again.)
 */
const TARGET = '45';
const SURGE_READINGS = 5;
const INJECTION = `${TARGET}:temperature:surge:${FIRST_EPOCH + 200}:${SURGE_READINGS}`;

const slice = useSlicePipeline();

/** Where the surged replay pauses: 5 rounds into the injection, before its last surged reading. */
const PAUSE_EPOCH = FIRST_EPOCH + 205;

/**
 * Runs the replay's own injector over the slice: the event times of the
 * readings it changes, and how many of them lie at or before PAUSE_EPOCH
 * (the second half of a paused replay must inject only the rest).
 */
async function injectionTruth(dir: string): Promise<{ times: number[]; beforePause: number }> {
  const injector = new StreamInjector([parseInjection(INJECTION)]);
  let beforePause = 0;
  for await (const raw of streamIbrl(dir, { fromEpoch: FIRST_EPOCH, toEpoch: LAST_EPOCH })) {
    const changed = injector.applied.length;
    injector.apply(ibrlToReading(raw, 'truth'), raw.epoch);
    if (injector.applied.length > changed && raw.epoch <= PAUSE_EPOCH) beforePause += 1;
  }
  return { times: injector.applied.map((change) => change.ts), beforePause };
}

/** Starts ingest and one detector on a fresh pipeline for the slice's topology (one cluster). */
async function startPipeline(name: string): Promise<{ pipeline: Pipeline; cluster: string; detector: DetectorRun }> {
  const pipeline = slice.open(name);
  await pipeline.startIngest(slice.data.nodeFile);
  const clusters = pipeline.directory!.clusters;
  expect(clusters).toHaveLength(1);
  const detector = await pipeline.startDetector('d1', slice.model, ALERTS);
  return { pipeline, cluster: clusters[0].id, detector };
}

const replayArgs = (from: number, to: number, inject?: string): string[] => [
  '--speed',
  'max',
  '--from-epoch',
  String(from),
  '--to-epoch',
  String(to),
  ...(inject ? ['--inject', inject] : []),
];

/**
 * Waits until ingest has accepted every reading sent and the detector has
 * scored every tick ingest emitted (no partition is ever idle, so once
 * everything is accepted the emitted ticks are final). Returns the ticks scored.
 */
async function waitUntilScored(pipeline: Pipeline, sent: number): Promise<number> {
  await waitFor('ingest to accept every reading', async () => (await pipeline.ingestCounts()).accepted === sent);
  const { rejected, frames } = await pipeline.ingestCounts();
  expect(rejected).toBe(0);
  // One cluster, one frame per tick; the first WINDOW - 1 ticks fill the window and are not scored.
  const scored = frames - (WINDOW - 1);
  await waitFor('the detector to score every emitted tick', async () => {
    return (await scoredClusterTicks(pipeline)).size === scored;
  });
  return scored;
}

describe('IBRL replay end to end (real Kafka, InfluxDB, Alertmanager)', () => {
  it('an injected surge is flagged within 2 ticks, alerts in Alertmanager with network/cluster/node/modality, on that node only', async () => {
    const truth = await injectionTruth(slice.data.dir);
    expect(truth.times).toHaveLength(SURGE_READINGS);
    expect(truth.beforePause).toBeGreaterThan(1);
    expect(truth.beforePause).toBeLessThan(SURGE_READINGS);
    const injectionTick = Math.floor(truth.times[0] / TICK_MS) * TICK_MS;
    const { pipeline, cluster } = await startPipeline('surge');

    // First part, up to a pause in the middle of the surge: the alert fires and stays active.
    let sent = await pipeline.replay(slice.data.dir, replayArgs(FIRST_EPOCH, PAUSE_EPOCH, INJECTION));
    await waitFor(
      'the alert in Alertmanager',
      async () => (await alertsOf(pipeline.config, pipeline.network)).length > 0,
    );
    const active = await alertsOf(pipeline.config, pipeline.network);
    expect(active).toHaveLength(1);
    expect(active[0].labels).toEqual({
      alertname: 'WsnNodeAnomaly',
      network: pipeline.network,
      cluster,
      node: TARGET,
      modality: 'temperature',
      severity: 'critical',
    });
    expect(active[0].status.state).toBe('active');
    expect(Number(active[0].annotations.probability)).toBeGreaterThan(ALERTS.threshold);
    const startsAt = new Date(active[0].startsAt).getTime();
    expect(startsAt).toBeGreaterThanOrEqual(injectionTick);
    expect(startsAt).toBeLessThanOrEqual(injectionTick + 2 * TICK_MS);

    // The rest of the slice (the injector goes on with the surge's remaining readings).
    sent += await pipeline.replay(
      slice.data.dir,
      replayArgs(
        PAUSE_EPOCH + 1,
        LAST_EPOCH,
        `${TARGET}:temperature:surge:${PAUSE_EPOCH + 1}:${SURGE_READINGS - truth.beforePause}`,
      ),
    );
    await waitUntilScored(pipeline, sent);

    // The anomaly measurement: the target is flagged at the injection's first tick or within 2 ticks after it, never before.
    const { flagged, firstFlag } = await expectFlaggedAfterInjection(pipeline, TARGET, injectionTick);
    expect(startsAt).toBe(firstFlag);
    for (const row of flagged) expect(row.probability).toBeGreaterThan(ALERTS.threshold);

    // One alert, on the target only: no neighbour alerted, it did not flap, and it resolved once the surge was
    // over (the context's rolling spread forgets a surge's steps within minutes), so nothing is left active.
    const stillActive = await alertsOf(pipeline.config, pipeline.network);
    expect(stillActive.map((alert) => alert.labels.node)).toEqual([]);
    // Every tick is scored, so every transition is on the topic.
    const transitions = await pipeline.alertTransitions(2);
    expect(transitions.map((alert) => `${alert.node}:${alert.kind}:${alert.modality}:${alert.status}`)).toEqual([
      `${TARGET}:anomaly:temperature:firing`,
      `${TARGET}:anomaly:temperature:resolved`,
    ]);
  });

  it('the same slice without the injection raises no alert and flags no node', async () => {
    const { pipeline, detector } = await startPipeline('clean');
    const sent = await pipeline.replay(slice.data.dir, replayArgs(FIRST_EPOCH, LAST_EPOCH));
    expect(await waitUntilScored(pipeline, sent)).toBeGreaterThan(300);
    expect(await pipeline.query('SELECT probability, node FROM anomaly WHERE is_anomaly = true')).toEqual([]);
    const [max] = await pipeline.query<{ max: number }>('SELECT MAX(probability) AS max FROM anomaly');
    expect(max.max).toBeLessThan(ALERTS.threshold);
    expect(await alertsOf(pipeline.config, pipeline.network)).toEqual([]);
    // The detector counted no alert transition of any kind (anomaly or silent).
    const metrics = await (await fetch(`http://127.0.0.1:${detector.port}/metrics`)).text();
    expect(metrics).not.toMatch(/^wsn_detector_alerts_total\{[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^wsn_detector_frames_total\{outcome="processed"\} [1-9]/m);
  });
});
