import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterScore, Frame } from '../../../common/types.ts';
import { alertPolicyFromConfig } from '../../../detector/alerts/tracker.ts';
import { loadDetector, type Detector } from '../../../model/index.ts';
import { FrameProcessor } from '../../../detector/service/processor.ts';
import {
  WINDOW,
  config,
  influx,
  makeFrames,
  NODES_PER_CLUSTER,
  tinyModel,
  uniqueId,
  useDetectorSuite,
} from './harness.ts';
import { waitFor } from '../../support/wait.ts';
import { scoredClusterTicks } from '../../support/influx.ts';

// Real Kafka + InfluxDB; the detector runs as child processes with the real
// (small) model. Each test has its own topics, group and database.
const CLUSTERS = 4;
const TICKS = 48;
const suite = useDetectorSuite('wsn-detector-it');
let model: Detector;

beforeAll(async () => {
  // The small model the detectors run too (startDetector's default).
  model = await loadDetector(tinyModel());
});

afterAll(() => {
  model?.dispose();
});

/** What one uninterrupted detector scores for these frames. */
async function reference(frames: Frame[]): Promise<ClusterScore[]> {
  const processor = new FrameProcessor({ model, policy: alertPolicyFromConfig(config) });
  return (await processor.process(frames)).scores;
}

/** Publishes the frames of test `id` tick by tick, `delayMs` apart, like a live ingest; resolves when all are sent. */
async function stream(
  id: string,
  frames: Frame[],
  delayMs: number,
  onTick?: (index: number) => Promise<void>,
): Promise<void> {
  const ticks = [...new Set(frames.map((f) => f.tick))].sort((a, b) => a - b);
  for (let i = 0; i < ticks.length; i++) {
    await suite.send(
      id,
      frames.filter((f) => f.tick === ticks[i]),
    );
    await onTick?.(i);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}

/** Checks InfluxDB holds exactly one point per expected (cluster, tick) and the reference probabilities. */
async function expectExactlyOnce(database: string, expected: ClusterScore[]): Promise<void> {
  const sink = influx(database);
  const scored = await scoredClusterTicks(sink);
  const wanted = new Map(expected.map((score) => [`${score.cluster}@${score.tick}`, score]));
  expect([...scored.keys()].sort()).toEqual([...wanted.keys()].sort());
  // The scores continue the same GRU state and windows across the restart: a lost,
  // repeated or reset tick would change them.
  for (const [key, tick] of scored) expect(tick.probability, key).toBeCloseTo(wanted.get(key)!.probability, 4);
  const nodeRows = await sink.query<{ count: number }>('SELECT COUNT(probability) AS count FROM anomaly');
  expect(nodeRows[0].count).toBe(expected.length * NODES_PER_CLUSTER);
  await sink.dropDatabase();
}

async function scoredPoints(database: string): Promise<number> {
  return (await scoredClusterTicks(influx(database))).size;
}

/** A test's id, database, consumer group and frames, and what one uninterrupted detector scores for them. */
async function scenario(name: string) {
  const id = uniqueId();
  const frames = makeFrames(`it-${name}-${id}`, CLUSTERS, 0, TICKS - 1);
  const expected = await reference(frames);
  return { id, database: `wsn_it_${name}_${id}`, group: `it-detector-${name}-${id}`, frames, expected };
}

describe('detector service failover (real Kafka, InfluxDB, model)', () => {
  it('killed with SIGKILL mid-stream and restarted: no tick lost, no point duplicated', async () => {
    const { id, database, group, frames, expected } = await scenario('kill');
    expect(expected).toHaveLength(CLUSTERS * (TICKS - WINDOW + 1));
    // Checkpoints every second, so the kill falls between two: the restart resumes from the
    // last checkpoint and replays the frames since the last commit.
    const first = await suite.start({
      id,
      group,
      replicaId: 'first',
      database,
      alertmanager: false,
      env: { WSN_CHECKPOINT_INTERVAL_MS: '1000' },
    });
    let killedAt = -1;
    await stream(id, frames, 60, async (index) => {
      // Kill as soon as the first replica has scored something, while frames keep coming.
      if (killedAt < 0 && index >= WINDOW + 8 && (await scoredPoints(database)) > 0) {
        first.child.kill('SIGKILL');
        killedAt = index;
      }
    });
    expect(killedAt).toBeGreaterThan(0);
    expect((await first.exited).signal).toBe('SIGKILL');
    const beforeRestart = await scoredPoints(database);
    expect(beforeRestart).toBeLessThan(expected.length);

    const second = await suite.start({ id, group, replicaId: 'second', database, alertmanager: false });
    await waitFor(
      'all ticks scored after the restart',
      async () => (await scoredPoints(database)) >= expected.length,
      180_000,
    );
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    await expectExactlyOnce(database, expected);
  });

  it('two replicas in one group: one stops with SIGTERM, the other takes over its clusters without a lost tick', async () => {
    const { id, database, group, frames, expected } = await scenario('replicas');
    const a = await suite.start({ id, group, replicaId: 'a', database, alertmanager: false });
    const b = await suite.start({ id, group, replicaId: 'b', database, alertmanager: false });
    const sink = influx(database);
    const sources = async (): Promise<string[]> => {
      const rows = await sink
        .query<{ source: string }>('SHOW TAG VALUES FROM pipeline WITH KEY = "source"')
        .catch(() => []);
      return rows.map((row) => (row as unknown as { value: string }).value).sort();
    };
    let stoppedAt = -1;
    await stream(id, frames, 60, async (index) => {
      if (stoppedAt < 0 && index >= TICKS / 2 && (await sources()).length === 2) {
        a.child.kill('SIGTERM');
        stoppedAt = index;
      }
    });
    expect(stoppedAt).toBeGreaterThan(0);
    // Graceful: the batch in flight finished, was checkpointed and committed.
    expect((await a.exited).code).toBe(0);
    await waitFor(
      'replica b to score every tick',
      async () => (await scoredPoints(database)) >= expected.length,
      180_000,
    );
    // b wrote pipeline points for ticks after a stopped: it took over a's clusters.
    const late = await sink.query<{ source: string }>(
      `SELECT frames, source FROM pipeline WHERE time > ${frames[frames.length - 1].tick - 5 * 31_000}ms`,
    );
    expect(new Set(late.map((row) => row.source))).toEqual(new Set(['b']));
    // b's /metrics counts what it processed and how long the model took.
    const metrics = await (await fetch(`http://127.0.0.1:${b.port}/metrics`)).text();
    const processed = Number(/wsn_detector_frames_total\{outcome="processed"\} (\d+)/.exec(metrics)?.[1]);
    expect(processed).toBeGreaterThan(0);
    expect(processed).toBeLessThanOrEqual(frames.length);
    expect(Number(/wsn_detector_model_seconds_count (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${b.port}/healthz`)).status).toBe(200);
    b.child.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);
    await expectExactlyOnce(database, expected);
  });
});
