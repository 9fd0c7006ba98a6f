import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { IPoint } from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { REPO_ROOT } from '../../../common/paths.ts';
import type { ModelVersion } from '../../../model/registry/store.ts';
import { feedbackPoint } from '../../../store/feedback.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';

// `wsn-watch retrain --since` against the real InfluxDB (a database of its own)
// and Kafka (a models topic of its own): three hours of six nodes written in
// the detector's schema, with alerted, silenced, confirmed and false-alarm
// episodes; a training of seconds (1 epoch of 64 windows).

const config = loadConfig();
const id = randomUUID().slice(0, 8);
const database = `wsn_test_retrain_${id}`;
const network = `it-retrain-${id}`;
const sink = new InfluxSink({ url: config.influx.url, database });
const TICK = config.ingest.tickMs;
const TICKS = 360;
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
/** Tick-aligned, ending a little before now. */
const T0 = Math.floor((Date.now() - 5 * 3_600_000) / TICK) * TICK;
const UNTIL = T0 + TICKS * TICK;
const MARGIN = 3;
let registry: string;
let env: Record<string, string>;

const inRange = (t: number, from: number, to: number): boolean => t >= from && t <= to;

/** What the detector would have written for one node-tick: readings and verdict on one `anomaly` point. */
function nodeTick(node: string, n: number, t: number): IPoint {
  const alerted =
    (node === 'n1' && inRange(t, 100, 109)) ||
    (node === 'n3' && inRange(t, 150, 154)) ||
    (node === 'n4' && inRange(t, 250, 252));
  const silenced = node === 'n2' && inRange(t, 200, 229);
  const wave = Math.sin((2 * Math.PI * t) / 120 + n / 3);
  return {
    measurement: 'anomaly',
    tags: { network, cluster: 'c0', node, model: 'v1' },
    fields: {
      value_temperature: 20 + n + 2 * wave + 0.05 * Math.cos(7 * t + n),
      value_humidity: 40 - 3 * wave + 0.1 * Math.sin(5 * t),
      value_voltage: 2.7 - 0.0002 * t,
      probability: alerted ? 0.9 : 0.1,
      is_anomaly: alerted,
      silenced,
    },
    timestamp: T0 + t * TICK,
  };
}

function mark(node: string, verdict: 'true' | 'false', from: number, to: number): IPoint {
  return feedbackPoint({
    alertId: `${network}/c0/${node}`,
    network,
    cluster: 'c0',
    node,
    kind: 'anomaly',
    modality: 'temperature',
    verdict,
    probability: 0.9,
    alertStartsAt: T0 + from * TICK,
    alertEndsAt: T0 + to * TICK,
    note: '',
    author: 'test',
    markedAt: Date.now(),
  });
}

async function cli(args: string[], extra: Record<string, string> = {}) {
  return promisify(execFile)('node', ['bin/wsn-watch.mjs', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, WSN_CONFIG: '', WSN_LOG_LEVEL: 'error', ...env, ...extra },
  });
}

beforeAll(async () => {
  registry = await mkdtemp(path.join(tmpdir(), 'wsn-it-retrain-'));
  env = {
    WSN_NETWORK: network,
    WSN_INFLUX_DATABASE: database,
    WSN_REGISTRY_DIR: registry,
    WSN_MODELS_TOPIC: `it.retrain.${id}.models`,
  };
  const points = NODES.flatMap((node, n) => Array.from({ length: TICKS }, (_, t) => nodeTick(node, n, t)));
  // n3's alert was a false alarm, n4's a real fault (its marked span is longer than its alerted ticks).
  points.push(mark('n3', 'false', 150, 154), mark('n4', 'true', 248, 258));
  await sink.writePoints(points);
  await cli(['model', 'register', 'models/default']);
  await cli(['model', 'register', 'models/default', '--threshold', '0.9']);
  await cli(['model', 'promote', 'v1']);
});

afterAll(async () => {
  await sink.dropDatabase().catch(() => undefined);
  await sink.close();
  await rm(registry, { recursive: true, force: true });
});

describe('wsn-watch retrain (real InfluxDB and Kafka)', () => {
  it('registers a candidate whose parent is the promoted version, trained without the alerted, silenced and confirmed episodes', async () => {
    const since = `${(TICKS * TICK) / 1000}s`;
    const until = new Date(UNTIL).toISOString();
    const args = ['retrain', '--since', since, '--until', until, '--margin-ticks', String(MARGIN)];
    const run = await cli([...args, '--page-rows', '500', '--epochs', '1', '--windows-per-epoch', '64']);
    // v2 is the newest version but v1 the promoted one: the parent is v1.
    expect(run.stdout).toMatch(new RegExp(`^registered v3 \\(network ${network}, parent v1\\)`, 'm'));
    // 360 ticks × 6 nodes in pages of at most 500 node-ticks: 83 ticks a page.
    expect(run.stderr).toContain('2160 node-ticks in 5 pages');
    expect(run.stderr).toContain(
      'parent v1 (the promoted version): modalities temperature, humidity, voltage, window 20',
    );

    const version = JSON.parse(await readFile(path.join(registry, 'v3', 'version.json'), 'utf8')) as ModelVersion;
    expect(version.parent).toBe('v1');
    expect(version.origin).toBe('retrain');
    expect(version.dataRange.from).toBe(new Date(T0).toISOString());
    expect(version.dataRange.to).toBe(until);
    expect(version.dataRange.samples).toBe(TICKS);
    expect(version.threshold).toBeGreaterThan(0);
    expect(version.metrics.f1).toBeTypeOf('number');
    expect(version.exclusions).toEqual({
      nodeTicks: 2160,
      // n1: ticks 100..109 ± 3.
      alerted: 16,
      // n2: 200..229 ± 3.
      silenced: 36,
      // n4: its marked span 248..258 ± 3 (its alerted ticks inside it).
      confirmed: 17,
      // n3: 150..154, marked false: kept.
      falseAlarmsKept: 5,
      kept: 2160 - 16 - 36 - 17,
      marginTicks: MARGIN,
    });

    expect((await cli(['model', 'show', 'v3'])).stdout).toMatch(
      /^left out: +69 of 2160 stored node-ticks: 16 alerted, 36 silenced, 17 of confirmed faults \(±3 ticks\); 5 of false alarms kept$/m,
    );

    // Registered, not promoted.
    const list = JSON.parse((await cli(['model', 'list', '--json'])).stdout) as { promoted: { version: string } };
    expect(list.promoted.version).toBe('v1');
  });

  it('drift: suggests retraining when most nodes reconstruct worse over the last days', async () => {
    const driftNetwork = `${network}-drift`;
    const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    // Six days of hourly points; nodes n1..n4 err twice as much on the last two days, n5 and n6 do not.
    const points: IPoint[] = NODES.flatMap((node, n) =>
      Array.from({ length: 6 * 24 }, (_, h) => {
        const day = Math.floor(h / 24);
        const risen = n < 4 && day >= 4;
        return {
          measurement: 'anomaly',
          tags: { network: driftNetwork, cluster: 'c0', node, model: 'v1' },
          fields: { err_temperature: risen ? 0.4 : 0.2, err_humidity: risen ? 0.2 : 0.1, probability: 0.1 },
          timestamp: today - 5 * 86_400_000 + h * 3_600_000,
        };
      }),
    );
    await sink.writePoints(points);
    const args = ['drift', '--days', '7', '--recent', '2', '--share', '0.5'];
    const json = JSON.parse((await cli([...args, '--json'], { WSN_NETWORK: driftNetwork })).stdout) as {
      risen: number;
      share: number;
      suggestRetraining: boolean;
      nodes: Array<{ node: string; ratio: number }>;
    };
    expect(json.risen).toBe(4);
    expect(json.suggestRetraining).toBe(true);
    expect(json.nodes.find((n) => n.node === 'n1')?.ratio).toBeCloseTo(2, 1);
    expect(json.nodes.find((n) => n.node === 'n6')?.ratio).toBeCloseTo(1, 5);
    const text = (await cli(args, { WSN_NETWORK: driftNetwork })).stdout;
    expect(text).toMatch(/^suggests retraining \(67 % ≥ 50 %\): wsn-watch retrain --since 7d$/m);
  });

  it('refuses a period without data and an unreachable InfluxDB, saying which', async () => {
    const before = new Date(T0 - 3_600_000).toISOString();
    const empty = cli(['retrain', '--since', '1h', '--until', before, '--parent', 'v1']);
    await expect(empty).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/RETRAIN_NO_DATA.*no readings of network/),
    });
    const down = cli(['retrain', '--since', '1h', '--parent', 'v1'], { WSN_INFLUX_URL: 'http://127.0.0.1:9' });
    await expect(down).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/INFLUX_UNREACHABLE.*cannot read InfluxDB at http:\/\/127\.0\.0\.1:9/),
    });
  });
});
