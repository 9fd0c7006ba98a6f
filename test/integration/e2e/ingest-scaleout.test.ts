import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../common/types.ts';
import { createTopology, loadTopology } from '../../../topology/index.ts';
import { TopologyPublisher } from '../../../topology/kafka.ts';
import { partitionForKey } from '../../../transport/partitioner.ts';
import { FIRST_EPOCH, LAST_EPOCH, SLICE_ALERTS as ALERTS, referenceScores } from './ibrl-slice.ts';
import { TICK_MS, type Pipeline, type ServiceRun } from './pipeline.ts';
import { scoredTicks, useSlicePipeline } from './slice-fixture.ts';
import { scoredClusterTicks } from '../../support/influx.ts';
import { waitFor } from '../../support/wait.ts';

// Scale-out: two `wsn-watch ingest --state kafka` processes in one consumer
// group and two detector replicas on one network, with IBRL replayed keyed by
// cluster. Each ingest owns the readings partition of one cluster; one is
// killed (SIGKILL) mid-run and the other takes its partitions over from the
// state saved on the ingest state topic. Real Kafka and InfluxDB.

/** 10 rounds of IBRL per second: the slice takes about 40 s, time to kill one ingest and fail over. */
const SPEED = String(31 * 10);
/**
 * Clusters of at most 5 nodes: c-36 (36, 38, 40) and c-44 (44 to 48). Keyed by
 * cluster they go to readings partitions 1 and 4 of 6, which the round-robin
 * assignment gives to different members of a two-process group.
 */
const MAX_CLUSTER_SIZE = 5;
const READINGS_PARTITIONS = 6;

const slice = useSlicePipeline();

/** Sum of a counter on a child's /metrics (all its label sets). */
async function metric(run: ServiceRun, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${run.port}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.split(' ').pop());
  return total;
}

async function publishTopology(p: Pipeline, nodeFile: string): Promise<void> {
  const publisher = new TopologyPublisher({ brokers: p.config.kafka.brokers, network: p.network });
  await publisher.connect();
  await publisher.publish(createTopology(loadTopology(nodeFile), { cluster: { maxSize: MAX_CLUSTER_SIZE } }));
  await publisher.disconnect();
}

/** Every frame on the frames topic (all that were published by now). */
async function publishedFrames(p: Pipeline): Promise<Frame[]> {
  const admin = new Kafka({
    brokers: p.config.kafka.brokers,
    clientId: `e2e-${p.id}`,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  const published = (await admin.fetchTopicOffsets(p.topics.frames)).reduce(
    (n, o) => n + Number(o.high) - Number(o.low),
    0,
  );
  await admin.disconnect();
  return (await p.readTopic(p.topics.frames, (messages) => messages.length >= published, 60_000)).map(
    (m) => JSON.parse(m.value.toString('utf8')) as Frame,
  );
}

/** Waits until no new score came for 15 s (the pipeline has caught up). */
async function untilQuiet(p: Pipeline, above: number): Promise<void> {
  let last = -1;
  let quietSince = Date.now();
  await waitFor(
    'the pipeline to go quiet after the replay',
    async () => {
      const now = await scoredTicks(p);
      if (now !== last) [last, quietSince] = [now, Date.now()];
      return now > above && Date.now() - quietSince > 15_000;
    },
    300_000,
    1_000,
  );
}

describe('scale-out: two ingest processes and two detectors on one network (real Kafka, InfluxDB)', () => {
  it('share the work; one ingest is killed and the other takes over: every cluster-tick emitted and scored exactly once', async () => {
    const p = slice.open('scaleout');
    await publishTopology(p, slice.data.nodeFile);
    const ingestEnv = {
      WSN_INGEST_STATE_TOPIC: `${p.topics.state}.ingest`,
      // The killed member leaves the group after this; the survivor then gets its partitions.
      WSN_KAFKA_SESSION_TIMEOUT_MS: '6000',
    };
    const ingest = [
      await p.startIngestCli(null, { name: 'ingest-1', args: ['--state', 'kafka'], env: ingestEnv }),
      await p.startIngestCli(null, { name: 'ingest-2', args: ['--state', 'kafka'], env: ingestEnv }),
    ];
    await p.startDetector('a', slice.model, ALERTS, { alertmanager: false });
    await p.startDetector('b', slice.model, ALERTS, { alertmanager: false });
    const writers = async (): Promise<Set<string>> =>
      new Set((await p.query<{ source: string }>('SELECT frames, source FROM pipeline')).map((row) => row.source));

    let replayEnded = false;
    const replayArgs = ['--speed', SPEED, '--from-epoch', String(FIRST_EPOCH), '--to-epoch', String(LAST_EPOCH)];
    const sentPromise = p
      .replay(slice.data.dir, [...replayArgs, '--key-by-cluster'])
      .finally(() => (replayEnded = true));
    // Both ingest processes emit frames (each owns one cluster's partition), both detectors score
    // (each owns one cluster's frame partition); then, over a third of the slice scored (16 s of
    // replay), ingest-1 has saved its partition's state mid-stream (every 10 s) before it dies.
    await waitFor(
      'both ingest processes to emit frames, both detectors to score, 250 cluster-ticks scored',
      async () =>
        (await metric(ingest[0], 'wsn_ingest_frames_total')) > 0 &&
        (await metric(ingest[1], 'wsn_ingest_frames_total')) > 0 &&
        (await writers()).size === 2 &&
        (await scoredTicks(p)) >= 250,
      120_000,
      200,
    );
    ingest[0].child.kill('SIGKILL');
    expect((await ingest[0].exited).signal).toBe('SIGKILL');
    expect(replayEnded).toBe(false);
    const scoredAtKill = await scoredTicks(p);

    const sent = await sentPromise;
    await untilQuiet(p, scoredAtKill);
    // ingest-2 took ingest-1's partitions over from their state saved mid-stream, not from the start.
    const takeovers = readFileSync(ingest[1].logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('taken over from its saved state'))
      .map((line) => JSON.parse(line) as { source: string; offset: string });
    expect(takeovers.length).toBeGreaterThan(0);
    expect(Math.max(...takeovers.map((t) => Number(t.offset)))).toBeGreaterThan(100);
    expect(await metric(ingest[1], 'wsn_ingest_rejected_total')).toBe(0);

    const frames = await publishedFrames(p);
    const byTick = new Map<string, Frame>();
    let repeated = 0;
    for (const frame of frames) {
      const key = `${frame.cluster}@${frame.tick}`;
      const earlier = byTick.get(key);
      if (earlier) {
        repeated++;
        // A tick emitted again by the process that took over is the same frame.
        expect(frame, key).toEqual(earlier);
      } else byTick.set(key, frame);
    }
    // Per cluster: ticks consecutive from its first to the last its own partition's watermark closed.
    const readings = await p.readTopic(p.topics.readings, (messages) => messages.length >= sent, 60_000);
    const newest = new Map<number, number>();
    for (const m of readings) {
      const ts = (JSON.parse(m.value.toString('utf8')) as { ts: number }).ts;
      newest.set(m.partition, Math.max(newest.get(m.partition) ?? 0, ts));
    }
    const clusters = [...new Set([...byTick.values()].map((frame) => frame.cluster))].sort();
    expect(clusters).toEqual(['c-36', 'c-44']);
    for (const cluster of clusters) {
      const ticks = [...byTick.values()]
        .filter((frame) => frame.cluster === cluster)
        .map((frame) => frame.tick)
        .sort((x, y) => x - y);
      for (let i = 1; i < ticks.length; i++)
        expect(ticks[i] - ticks[i - 1], `${cluster}@${new Date(ticks[i]).toISOString()}`).toBe(TICK_MS);
      const partition = partitionForKey(cluster, READINGS_PARTITIONS);
      const watermark = newest.get(partition)! - p.config.ingest.allowedLatenessMs;
      expect(ticks[ticks.length - 1], cluster).toBe(Math.floor(watermark / TICK_MS) * TICK_MS - TICK_MS);
    }

    // Every emitted cluster-tick scored exactly once, with the probabilities of one uninterrupted detector.
    const expected = await referenceScores(slice.model, [...byTick.values()]);
    await waitFor('every tick scored', async () => (await scoredTicks(p)) >= expected.size, 180_000);
    const inInflux = await scoredClusterTicks(p);
    expect([...inInflux.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, tick] of inInflux) expect(tick.probability, key).toBeCloseTo(expected.get(key) as number, 4);
    expect(await writers()).toEqual(new Set(['a', 'b']));
    process.stderr.write(
      `[scale-out] ${sent} readings keyed by cluster; ingest-1 killed after ${scoredAtKill} scored ticks; ${byTick.size} cluster-ticks (contiguous per cluster), ${repeated} published twice (identical); ${inInflux.size} scored, each once\n`,
    );
  });
});
