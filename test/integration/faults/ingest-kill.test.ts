import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../common/types.ts';
import { SLICE_ALERTS as ALERTS, referenceScores } from '../e2e/ibrl-slice.ts';
import { TICK_MS } from '../e2e/pipeline.ts';
import { waitFor } from '../../support/wait.ts';
import { replayInBackground, scoredTicks, useSlicePipeline } from '../e2e/slice-fixture.ts';
import { scoredClusterTicks } from '../../support/influx.ts';

// Fault scenario "SIGKILL of ingest": `wsn-watch ingest` (a child process with
// its checkpoint file) is killed while IBRL flows through it, and started
// again. The restarted ingest goes on from its checkpoint and committed
// offsets: no tick is lost, a tick published twice is the same frame, and the
// detector scores every tick once, with the probabilities of an uninterrupted
// run. (SIGKILL of the detector: test/integration/e2e/detector-restart.test.ts.)

/** 25 rounds of IBRL per second: the slice takes about 16 s. */
const SPEED = String(31 * 25);

const slice = useSlicePipeline();

describe('fault: SIGKILL of ingest inside the live pipeline (real Kafka, InfluxDB)', () => {
  it('restarted from its checkpoint: every tick emitted, repeated frames identical, every tick scored once', async () => {
    const p = slice.open('ingest-kill');
    const first = await p.startIngestCli(slice.data.nodeFile);
    const detector = await p.startDetector('d1', slice.model, ALERTS, { alertmanager: false });
    const scored = (): Promise<number> => scoredTicks(p);

    const replay = replayInBackground(p, slice.data.dir, SPEED);
    await waitFor('the first scores', async () => (await scored()) > 0, 120_000, 50);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(replay.done()).toBe(false);
    const scoredAtKill = await scored();

    // The killed member stays in the group until its session times out (kafka.sessionTimeoutMs); then the new one takes over.
    const second = await p.startIngestCli(slice.data.nodeFile);
    const sent = await replay.sent;

    // Wait until the pipeline is quiet (no new score for 15 s), then read back everything ingest published.
    let last = -1;
    let quietSince = Date.now();
    await waitFor(
      'the pipeline to go quiet after the replay',
      async () => {
        const now = await scored();
        if (now !== last) {
          last = now;
          quietSince = Date.now();
        }
        return now > scoredAtKill && Date.now() - quietSince > 15_000;
      },
      300_000,
      1_000,
    );
    const admin = new Kafka({
      brokers: p.config.kafka.brokers,
      clientId: `fault-ingest-kill-${p.id}`,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    const published = (await admin.fetchTopicOffsets(p.topics.frames)).reduce(
      (n, o) => n + Number(o.high) - Number(o.low),
      0,
    );
    await admin.disconnect();
    const frames = (await p.readTopic(p.topics.frames, (messages) => messages.length >= published, 60_000)).map(
      (m) => JSON.parse(m.value.toString('utf8')) as Frame,
    );
    expect(frames).toHaveLength(published);

    const byTick = new Map<string, Frame>();
    let repeated = 0;
    for (const frame of frames) {
      const key = `${frame.cluster}@${frame.tick}`;
      const earlier = byTick.get(key);
      if (earlier) {
        repeated++;
        expect(frame, key).toEqual(earlier);
      } else byTick.set(key, frame);
    }
    const ticks = [...new Set([...byTick.values()].map((f) => f.tick))].sort((a, b) => a - b);
    // No lost tick: consecutive from the first to the last.
    for (let i = 1; i < ticks.length; i++)
      expect(ticks[i] - ticks[i - 1], new Date(ticks[i]).toISOString()).toBe(TICK_MS);
    // Up to the end: every tick the final watermark closed was emitted. The watermark is the
    // slowest readings partition's newest event time minus the allowed lateness; a tick is
    // emitted once the watermark reaches its end.
    const readings = await p.readTopic(p.topics.readings, (messages) => messages.length >= sent, 60_000);
    const newestPerPartition = new Map<number, number>();
    for (const m of readings)
      newestPerPartition.set(
        m.partition,
        Math.max(newestPerPartition.get(m.partition) ?? 0, (JSON.parse(m.value.toString('utf8')) as { ts: number }).ts),
      );
    const watermark = Math.min(...newestPerPartition.values()) - p.config.ingest.allowedLatenessMs;
    expect(ticks[ticks.length - 1]).toBe(Math.floor(watermark / TICK_MS) * TICK_MS - TICK_MS);

    const expected = await referenceScores(slice.model, [...byTick.values()]);
    await waitFor('every tick scored', async () => (await scored()) >= expected.size, 180_000);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    detector.child.kill('SIGTERM');
    expect((await detector.exited).code).toBe(0);

    const scoredInInflux = await scoredClusterTicks(p);
    expect([...scoredInInflux.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, tick] of scoredInInflux) expect(tick.probability, key).toBeCloseTo(expected.get(key) as number, 4);
    process.stderr.write(
      `[fault suite] ingest SIGKILL: ${sent} readings replayed; killed after ${scoredAtKill} scored ticks; ${byTick.size} frames (${ticks.length} ticks, contiguous), ${repeated} published twice (identical); ${scoredInInflux.size} scored ticks in InfluxDB, each once, probabilities as an uninterrupted run\n`,
    );
  });
});
