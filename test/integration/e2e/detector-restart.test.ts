import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../common/types.ts';
import { SLICE_ALERTS as ALERTS, WINDOW, referenceScores } from './ibrl-slice.ts';
import { waitFor } from '../../support/wait.ts';
import { replayInBackground, scoredTicks, useSlicePipeline } from './slice-fixture.ts';
import { scoredClusterTicks } from '../../support/influx.ts';

// The detector killed mid-stream while IBRL flows live through ingest, on the real
// Kafka and InfluxDB. test/integration/detector/failover.test.ts covers the same
// for frames written straight to Kafka, and the two-replica hand-over; this adds
// the whole path: replay → readings → ingest → frames → detector → InfluxDB.

/** 50 rounds of IBRL per second: the slice takes about 8 s, long enough to kill the detector inside it. */
const SPEED = String(31 * 50);
/**
 * The killed detector never leaves its consumer group: the restarted one gets
 * the partitions when the session of the first times out. 10 s instead of the
 * default 30 s (kafka.sessionTimeoutMs) is the setting under test here.
 */
const AFTER_CRASH = { alertmanager: false, env: { WSN_KAFKA_SESSION_TIMEOUT_MS: '10000' } };

const slice = useSlicePipeline();

describe('detector restart inside the live pipeline (real Kafka, InfluxDB)', () => {
  it('SIGKILL mid-stream and a restart: every tick ingest emitted is scored once, continuing the same state', async () => {
    const p = slice.open('restart');
    await p.startIngest(slice.data.nodeFile);
    const first = await p.startDetector('first', slice.model, ALERTS, AFTER_CRASH);
    const scored = (): Promise<number> => scoredTicks(p);

    const replay = replayInBackground(p, slice.data.dir, SPEED);
    // Kill as soon as the first replica has written scores, while the replay still runs.
    await waitFor('the first scores', async () => (await scored()) > 0, 120_000, 50);
    first.child.kill('SIGKILL');
    expect(replay.done()).toBe(false);
    expect((await first.exited).signal).toBe('SIGKILL');
    const beforeRestart = await scored();

    const second = await p.startDetector('second', slice.model, ALERTS, AFTER_CRASH);
    const sent = await replay.sent;
    await waitFor('ingest to accept every reading', async () => (await p.ingestCounts()).accepted === sent);
    const { frames: emitted, rejected } = await p.ingestCounts();
    expect(rejected).toBe(0);
    const expectedScores = emitted - (WINDOW - 1);
    expect(beforeRestart).toBeLessThan(expectedScores);
    await waitFor(
      'every emitted tick scored after the restart',
      async () => (await scored()) >= expectedScores,
      180_000,
    );
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    // The setting reached the detector's Kafka consumer.
    expect(readFileSync(second.logFile, 'utf8')).toContain('group session timeout 10 s');

    // What ingest emitted, read back from the frames topic: one frame per tick of the one cluster.
    const frames = (await p.readTopic(p.topics.frames, (messages) => messages.length >= emitted)).map(
      (message) => JSON.parse(message.value.toString('utf8')) as Frame,
    );
    expect(frames).toHaveLength(emitted);
    const expected = await referenceScores(slice.model, frames);
    expect(expected.size).toBe(expectedScores);

    // Every scored tick, none missing, none extra, with the probabilities of an uninterrupted
    // run: a lost, repeated or reset tick would change the windows and GRU state the restarted
    // detector continued from.
    const inInflux = await scoredClusterTicks(p);
    expect([...inInflux.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, tick] of inInflux) expect(tick.probability, key).toBeCloseTo(expected.get(key) as number, 4);

    // Readings: one point per node with a value in every emitted frame (warm-up ticks included).
    const expectedReadings = frames.reduce(
      (total, frame) =>
        total + frame.nodes.filter((node) => Object.values(node.values).some((value) => value !== null)).length,
      0,
    );
    const [readings] = await p.query<{ count: number }>('SELECT COUNT(value_temperature) AS count FROM anomaly');
    expect(readings.count).toBe(expectedReadings);
  });
});
