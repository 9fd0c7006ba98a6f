import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import type { ClusterScore, Frame } from '../../../common/types.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';

// Real InfluxDB (`wsn-watch services up`), a database of its own per run.
const config = loadConfig();
const database = `wsn_test_sink_${randomUUID().slice(0, 8)}`;
const sink = new InfluxSink({ url: config.influx.url, database, batchSize: 7, concurrency: 2 });
// A point InfluxDB refuses (a 400) is counted, not retried: none may be, or a count below would only say "missing".
const refused: string[] = [];
sink.onRefused((points, reason) => refused.push(`${points} point(s): ${reason}`));

const TICK0 = Date.UTC(2004, 2, 4, 0, 0, 0);
const ticks = Array.from({ length: 10 }, (_, i) => TICK0 + i * 31_000);
const nodes = ['1', '2', '3'];

const frame = (tick: number): Frame => ({
  network: 'lab',
  cluster: 'c1',
  tick,
  topologyVersion: 'v1',
  nodes: nodes.map((node, i) => ({
    node,
    values: { temperature: 20 + i, humidity: i === 2 ? null : 40 },
    staleTicks: 0,
    silent: false,
  })),
});

const score = (tick: number): ClusterScore => ({
  network: 'lab',
  cluster: 'c1',
  tick,
  probability: 0.25,
  nodes: nodes.map((node, i) => ({
    node,
    probability: i / 10,
    score: i,
    reconstructionError: { temperature: 0.1 * i, humidity: 0.2 },
    reconstruction: { temperature: 20.5, humidity: 39 },
    isAnomaly: false,
  })),
});

interface CountRow {
  count: number;
}

async function count(measurement: string, field: string): Promise<number> {
  const rows = await sink.query<CountRow>(`SELECT COUNT("${field}") AS count FROM "${measurement}"`);
  return rows[0]?.count ?? 0;
}

beforeAll(async () => {
  await sink.ensureDatabase();
});

afterEach(() => {
  expect(refused, 'points InfluxDB refused (400)').toEqual([]);
});

afterAll(async () => {
  await sink.dropDatabase();
  await sink.close();
});

describe('InfluxSink against a real InfluxDB', () => {
  it('creates its database and writes one anomaly point per node-tick (readings and verdict) and pipeline points at event time', async () => {
    await sink.write({
      frames: ticks.map(frame),
      scores: ticks.map(score),
      alerts: [],
      pipeline: {
        network: 'lab',
        source: 'test',
        time: ticks[9],
        frames: 10,
        skippedFrames: 0,
        clusters: 1,
        batchMs: 5,
        modelMs: 2,
        framesPerSecond: 2000,
        eventLagMs: 1,
      },
    });
    expect(await count('anomaly', 'probability')).toBe(30);
    expect(await count('anomaly', 'cluster_probability')).toBe(30);
    expect(await count('anomaly', 'value_temperature')).toBe(30);
    // node 3 never reported humidity: no field, not a zero.
    expect(await count('anomaly', 'value_humidity')).toBe(20);
    expect(await count('pipeline', 'frames')).toBe(1);
    // One point per node-tick, whatever the number of fields: 3 nodes × 10 ticks.
    expect((await sink.query<{ name: string }>('SHOW MEASUREMENTS')).map((row) => row.name)).toEqual([
      'anomaly',
      'pipeline',
    ]);
    const points = await sink.query<{ time: Date; node: string }>('SELECT value_temperature, node FROM anomaly');
    expect(new Set(points.map((row) => `${row.node}@${row.time.getTime()}`)).size).toBe(30);
    const rows = await sink.query<{ time: Date; err_temperature: number; rec_humidity: number; is_anomaly: boolean }>(
      `SELECT err_temperature, rec_humidity, is_anomaly FROM anomaly WHERE node = '3' ORDER BY time ASC LIMIT 1`,
    );
    expect(rows[0]).toMatchObject({ err_temperature: expect.closeTo(0.2, 6), rec_humidity: 39, is_anomaly: false });
    expect(rows[0].time.getTime()).toBe(TICK0);
  });

  it('writing the same ticks again (a replay) adds no points', async () => {
    const before = await count('anomaly', 'probability');
    await sink.write({ frames: ticks.map(frame), scores: ticks.map(score), alerts: [] });
    await sink.write({ frames: ticks.slice(0, 5).map(frame), scores: ticks.slice(0, 5).map(score), alerts: [] });
    expect(await count('anomaly', 'probability')).toBe(before);
    expect(await count('anomaly', 'value_temperature')).toBe(30);
  });

  it('writes the readings of a tick its cluster was not scored at (warm-up), without verdict fields', async () => {
    const warmup = TICK0 - 31_000;
    await sink.write({ frames: [frame(warmup)], scores: [], alerts: [] });
    const rows = await sink.query<{ value_temperature: number; probability: number | null }>(
      `SELECT value_temperature, probability FROM anomaly WHERE time = ${warmup}ms AND node = '2'`,
    );
    expect(rows.map(({ value_temperature, probability }) => ({ value_temperature, probability }))).toEqual([
      { value_temperature: 21, probability: null },
    ]);
    expect(await count('anomaly', 'probability')).toBe(30);
  });

  it('stores the points of more than 100,000 nodes (the services lift InfluxDB’s limit of values per tag)', async () => {
    const nodesOver = 100_001;
    const points = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => ({
        measurement: 'limits',
        tags: { node: `n${from + i}` },
        fields: { probability: 0.1 },
        timestamp: TICK0,
      }));
    // InfluxDB checks the limit against the values it holds before a write: the last node comes alone.
    const wide = new InfluxSink({ url: config.influx.url, database, retries: 0 });
    const refused: number[] = [];
    wide.onRefused((count) => refused.push(count));
    await wide.writePoints(points(0, nodesOver - 1));
    await wide.writePoints(points(nodesOver - 1, nodesOver));
    expect(refused).toEqual([]);
    const rows = await sink.query<{ count: number }>('SELECT COUNT("probability") AS count FROM limits');
    expect(rows[0]?.count).toBe(nodesOver);
  });
});
