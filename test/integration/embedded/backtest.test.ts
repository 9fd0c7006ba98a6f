import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticNetwork } from '../../../sources/synthetic.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { requireServices, runId } from '../foundation/services.ts';
import { scoredClusterTicks } from '../../support/influx.ts';

// `wsn-watch backtest --influx` as a user runs it (a child process of the real
// CLI), writing to the real InfluxDB: the dashboards then show the backtest.

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TICK_MS = 31_000;
const START = Date.UTC(2025, 0, 1);
const id = runId();
const database = `wsn_backtest_${id}`;
const network = `backtest-${id}`;
let dir: string;
let influx: InfluxSink;

beforeAll(async () => {
  const config = await requireServices();
  influx = new InfluxSink({ url: config.influx.url, database, retries: 2 });
  dir = await mkdtemp(path.join(tmpdir(), 'wsn-backtest-it-'));
});
afterAll(async () => {
  await influx?.dropDatabase().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('wsn-watch backtest --influx (real InfluxDB)', () => {
  it('writes the readings, scores and alerts of a history with a gap to the configured database', async () => {
    const steps = 120;
    const { series } = generateSyntheticNetwork({ nodes: 12, steps, seed: 5 });
    const lines = ['node,ts,temperature,humidity,voltage'];
    for (let t = 0; t < steps; t++) {
      series.nodes.forEach((node, n) => {
        // s4 stops for 30 ticks (15 minutes): silent, then back.
        if (node === '4' && t >= 50 && t < 80) return;
        const v = (m: number) => series.data[(t * series.nodes.length + n) * series.modalities.length + m].toFixed(3);
        lines.push(
          `${node},${new Date(START + t * TICK_MS + 1_000).toISOString()},${v(0)},${t % 9 === 0 ? '' : v(1)},${v(2)}`,
        );
      });
    }
    const history = path.join(dir, 'history.csv');
    const alertsFile = path.join(dir, 'alerts.csv');
    await writeFile(history, lines.join('\n') + '\n');
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        'bin/wsn-watch.mjs',
        'backtest',
        '--history',
        history,
        '--model',
        'models/default',
        '--influx',
        '--alerts',
        alertsFile,
      ],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          WSN_CONFIG: '',
          WSN_INFLUX_DATABASE: database,
          WSN_NETWORK: network,
          WSN_TICK_MS: String(TICK_MS),
          WSN_LOG_LEVEL: 'warn',
        },
      },
    );
    expect(stderr).toContain(`backtest: writing to InfluxDB ${database}`);
    const ticks = Number(/backtest: (\d+) ticks/.exec(stdout)?.[1]);
    expect(ticks).toBe(steps);

    // One point per node and tick: readings on every tick, the verdict on the scored ones (the first window − 1
    // ticks fill the window).
    expect((await scoredClusterTicks(influx)).size).toBe(steps - 19);
    const [readings] = await influx.query<{ count: number }>(
      `SELECT COUNT(value_temperature) AS count FROM anomaly WHERE network = '${network}'`,
    );
    expect(readings.count).toBe(steps * 12);
    const [anomaly] = await influx.query<{ count: number }>(
      `SELECT COUNT(probability) AS count FROM anomaly WHERE network = '${network}'`,
    );
    expect(anomaly.count).toBe((steps - 19) * 12);
    const first = await influx.query<{ time: Date }>(
      `SELECT FIRST(cluster_probability) FROM anomaly WHERE network = '${network}'`,
    );
    // Ticks are on ingest's UTC grid (multiples of the tick since the epoch), whatever the history's own start.
    expect(first[0].time.getTime()).toBe(Math.floor((START + 1_000) / TICK_MS) * TICK_MS + 19 * TICK_MS);
    // The silence of s4 is an alert in the CSV, and the same run wrote it.
    const alerts = (await readFile(alertsFile, 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));
    expect(alerts.some((a) => a[1] === '4' && a[3] === 'silent' && a[7] !== '')).toBe(true);
  });
});
