import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterScore, Frame } from '../../../common/types.ts';
import { SLICE_ALERTS as ALERTS, WINDOW, repoRoot } from './ibrl-slice.ts';
import { waitFor } from '../../support/wait.ts';
import { TICK_MS } from './pipeline.ts';
import { replayInBackground, scoredTicks, useSlicePipeline } from './slice-fixture.ts';

// A model version promoted while IBRL flows live through ingest and a detector
// that follows the registry (`detect --registry`), on the real Kafka and
// InfluxDB. The second version is the slice model registered again with
// another threshold: the test is about the swap, not about the weights.

/** 10 rounds of IBRL per second: the 400-epoch slice takes about 40 s, the promotion lands inside it. */
const SPEED = String(31 * 10);
/** Ticks the new version warms up beside the old one (the model's own would be its context warm-up, 100). */
const WARMUP_TICKS = 15;
const NEW_THRESHOLD = 0.95;

const slice = useSlicePipeline();
const registries: string[] = [];
afterAll(async () => {
  await Promise.all(registries.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** `wsn-watch model …` with the test's registry, topic and network; resolves with its stdout. */
async function modelCli(env: Record<string, string>, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('node', ['bin/wsn-watch.mjs', 'model', ...args], {
    cwd: repoRoot,
    env: { ...process.env, WSN_CONFIG: '', ...env },
  });
  return stdout;
}

describe('model promotion under load (real Kafka, InfluxDB)', () => {
  it('swaps to the promoted version at one tick: every tick scored once, the version tag switching there', async () => {
    const p = slice.open('promote');
    const registry = await mkdtemp(path.join(tmpdir(), 'wsn-e2e-registry-'));
    registries.push(registry);
    const env = {
      WSN_NETWORK: p.network,
      WSN_REGISTRY_DIR: registry,
      WSN_MODELS_TOPIC: `e2e.promote.${p.id}.models`,
      WSN_MODEL_WARMUP_TICKS: String(WARMUP_TICKS),
    };
    expect(await modelCli(env, ['register', slice.model])).toMatch(/^registered v1 /);
    expect(await modelCli(env, ['register', slice.model, '--threshold', String(NEW_THRESHOLD)])).toMatch(
      /^registered v2 \(network .*, parent v1, threshold 0\.95\)/,
    );
    expect(await modelCli(env, ['promote', 'v1'])).toMatch(/^promoted v1 /);

    await p.startIngest(slice.data.nodeFile);
    const detector = await p.startDetector('follower', slice.model, ALERTS, {
      alertmanager: false,
      registry: true,
      env,
    });
    const replay = replayInBackground(p, slice.data.dir, SPEED);
    await waitFor('the first scores', async () => (await scoredTicks(p)) > 0, 120_000, 50);
    // Counted before the command runs: the detector can see the promotion (and go on scoring) before
    // the promote process has exited, so a count taken after it may already include later ticks.
    const promotedWith = await scoredTicks(p);
    expect(await modelCli(env, ['promote', 'v2'])).toMatch(/^promoted v2 in network .* \(was v1; threshold 0\.95\)/);

    const sent = await replay.sent;
    await waitFor('ingest to accept every reading', async () => (await p.ingestCounts()).accepted === sent);
    const { frames: emitted, rejected } = await p.ingestCounts();
    expect(rejected).toBe(0);
    const expectedScores = emitted - (WINDOW - 1);
    await waitFor('every emitted tick scored', async () => (await scoredTicks(p)) >= expectedScores, 180_000);
    detector.child.kill('SIGTERM');
    expect((await detector.exited).code).toBe(0);

    // The ticks ingest emitted, from the frames topic; the scored ones are those with a full window.
    const frames = (await p.readTopic(p.topics.frames, (messages) => messages.length >= emitted)).map(
      (message) => JSON.parse(message.value.toString('utf8')) as Frame,
    );
    const expected = frames
      .sort((a, b) => a.tick - b.tick)
      .slice(WINDOW - 1)
      .map((frame) => `${frame.cluster}@${frame.tick}`);

    // Every scored node-tick is one `anomaly` point (a tick scored again by the other version would
    // be a second point, under its tag): none lost, none repeated across the swap.
    const rows = await p.query<{ time: Date; cluster: string; node: string; model: string }>(
      'SELECT "probability", "cluster", "node", "model" FROM "anomaly" WHERE "probability" >= 0',
    );
    const perNodeTick = new Map<string, number>();
    for (const row of rows) {
      const key = `${row.node}@${row.time.getTime()}`;
      perNodeTick.set(key, (perNodeTick.get(key) ?? 0) + 1);
    }
    expect([...perNodeTick.values()].every((count) => count === 1)).toBe(true);
    const clusterTicks = [...new Set(rows.map((row) => `${row.cluster}@${row.time.getTime()}`))];
    expect(clusterTicks.sort()).toEqual([...expected].sort());
    expect(rows.length).toBe(expected.length * frames[0].nodes.length);

    // The version tag switches at one tick T, after the promotion: v1 before, v2 from T on.
    const switchTick = Math.min(...rows.filter((row) => row.model === 'v2').map((row) => row.time.getTime()));
    expect(Number.isFinite(switchTick)).toBe(true);
    for (const row of rows)
      expect(row.model, row.time.toISOString()).toBe(row.time.getTime() < switchTick ? 'v1' : 'v2');
    // T is the warm-up after the newest tick scored when the promotion was seen, at least after the
    // ticks scored before it was made (in event time: the slice has ticks without a frame).
    const times = [...new Set(rows.map((row) => row.time.getTime()))].sort((a, b) => a - b);
    expect(switchTick).toBeGreaterThanOrEqual(times[promotedWith - 1] + (WARMUP_TICKS + 1) * TICK_MS);
    expect(switchTick).toBeGreaterThan(times[0]);
    const iso = new Date(switchTick).toISOString();

    // wsn.anomalies records carry it too.
    const published = (await p.readTopic(p.topics.anomalies, (messages) => messages.length >= expected.length)).map(
      (message) => JSON.parse(message.value.toString('utf8')) as ClusterScore,
    );
    for (const score of published) expect(score.model).toBe(score.tick < switchTick ? 'v1' : 'v2');

    // The log names both versions, the switch tick and the threshold now in force (v2's: the user set none).
    const log = await readFile(detector.logFile, 'utf8');
    // (It keeps v2's false-alert budget from there, as a version given with --model does.)
    expect(log).toContain(
      `model swapped from v1 to v2 at tick ${iso} (1 cluster); alert threshold 0.95 (calibrated and stored with the model v2; rises above it`,
    );
  });
});
