import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../common/types.ts';
import { SLICE_ALERTS as ALERTS, WINDOW, referenceScores } from './ibrl-slice.ts';
import { waitFor } from '../../support/wait.ts';
import { replayInBackground, scoredTicks, useSlicePipeline } from './slice-fixture.ts';
import { scoredClusterTicks } from '../../support/influx.ts';

// Two detector replicas in one consumer group while IBRL flows live through
// ingest; one stops (SIGTERM), the other takes over its cluster. Real Kafka and
// InfluxDB. test/integration/detector/failover.test.ts shows the same hand-over
// for frames written straight to Kafka; this one runs the whole path.

/** 20 rounds of IBRL per second: the slice takes about 20 s. */
const SPEED = String(31 * 20);
/**
 * Clusters of at most 5 nodes split the slice's 8 motes into c-36 (36, 38, 40)
 * and c-44 (44 to 48), keyed onto frame partitions 1 and 10: of different
 * parity, so the round-robin assignment gives each of two replicas one cluster.
 */
const MAX_CLUSTER_SIZE = 5;

const slice = useSlicePipeline();

describe('detector replicas inside the live pipeline (real Kafka, InfluxDB)', () => {
  it('two replicas share the clusters; one stops with SIGTERM and the other takes over without a lost tick', async () => {
    const p = slice.open('replicas');
    await p.startIngest(slice.data.nodeFile, { maxClusterSize: MAX_CLUSTER_SIZE });
    expect(p.directory!.clusters.map((cluster) => cluster.id)).toEqual(['c-36', 'c-44']);
    const a = await p.startDetector('a', slice.model, ALERTS, { alertmanager: false });
    const b = await p.startDetector('b', slice.model, ALERTS, { alertmanager: false });
    /** Replicas that wrote `pipeline` points (one per batch they processed). */
    const writers = async (): Promise<string[]> =>
      (await p.query<{ source: string }>('SELECT frames, source FROM pipeline')).map((row) => row.source);

    const replay = replayInBackground(p, slice.data.dir, SPEED);
    // Stop a once both replicas are scoring (each owns one cluster), while the replay still runs.
    await waitFor('both replicas to write scores', async () => new Set(await writers()).size === 2, 120_000, 100);
    a.child.kill('SIGTERM');
    expect(replay.done()).toBe(false);
    // Graceful: a finished its batch in flight, wrote, checkpointed and committed it.
    expect((await a.exited).code).toBe(0);

    const sent = await replay.sent;
    await waitFor('ingest to accept every reading', async () => (await p.ingestCounts()).accepted === sent);
    const { frames: emitted, rejected } = await p.ingestCounts();
    expect(rejected).toBe(0);
    // Two clusters, one frame each per tick; per cluster the first WINDOW - 1 ticks only fill the window.
    const ticks = emitted / 2;
    const expectedScores = 2 * (ticks - (WINDOW - 1));
    const scored = (): Promise<number> => scoredTicks(p);
    await waitFor(
      'b to score every emitted tick of both clusters',
      async () => (await scored()) >= expectedScores,
      180_000,
    );
    b.child.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);

    const frames = (await p.readTopic(p.topics.frames, (messages) => messages.length >= emitted)).map(
      (message) => JSON.parse(message.value.toString('utf8')) as Frame,
    );
    expect(frames).toHaveLength(emitted);
    frames.sort((x, y) => x.tick - y.tick);
    const expected = await referenceScores(slice.model, frames);
    expect(expected.size).toBe(expectedScores);

    // Exactly the expected (cluster, tick) points, once each, with the probabilities of one uninterrupted detector.
    const inInflux = await scoredClusterTicks(p);
    expect([...inInflux.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, tick] of inInflux) expect(tick.probability, key).toBeCloseTo(expected.get(key) as number, 4);

    // Both replicas scored, and after a stopped only b wrote: it took over a's cluster.
    expect(new Set(await writers())).toEqual(new Set(['a', 'b']));
    const lastTick = frames[frames.length - 1].tick;
    const late = await p.query<{ source: string }>(
      `SELECT frames, source FROM pipeline WHERE time > ${lastTick - 20 * 31_000}ms`,
    );
    expect(late.length).toBeGreaterThan(0);
    expect(new Set(late.map((row) => row.source))).toEqual(new Set(['b']));
  });
});
