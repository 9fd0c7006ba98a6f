import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { freePort } from '../../support/ports.ts';
import { waitFor } from '../../support/wait.ts';
import { SLICE_ALERTS as ALERTS, WINDOW, repoRoot } from './ibrl-slice.ts';
import { TICK_MS, runCli } from './pipeline.ts';
import { replayInBackground, scoredTicks, useSlicePipeline } from './slice-fixture.ts';

// The month's loop on the real Kafka and InfluxDB: IBRL flows live through
// ingest and a detector following the registry (v1); `retrain --since` trains
// a candidate (v2) on what InfluxDB then holds; `model shadow v2`; a second
// detector (own group, state, database) scores the same frames again with v2
// shadowing: its live `anomaly` points equal the first run's, its `shadow`
// points carry v2; `model compare` gives the numbers and `model promote`
// follows the gate.

const SPEED = String(31 * 10);
const slice = useSlicePipeline();
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup) await step().catch(() => undefined);
});

interface AnomalyRow {
  time: Date;
  node: string;
  model: string;
  probability: number;
  is_anomaly: boolean;
}

async function cli(env: Record<string, string>, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)('node', ['bin/wsn-watch.mjs', ...args], {
    cwd: repoRoot,
    env: { ...process.env, WSN_CONFIG: '', WSN_LOG_LEVEL: 'error', ...env },
  });
}

async function metricsOf(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** The sum of a metric's samples whose line starts with `prefix` (a name, or a name and labels). */
function counted(metrics: string, prefix: string): number {
  return metrics
    .split('\n')
    .filter(
      (line) =>
        line.startsWith(prefix) && (line[prefix.length] === ' ' || line[prefix.length] === '{' || prefix.endsWith('}')),
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const byNodeTick = (rows: AnomalyRow[]): Map<string, AnomalyRow> =>
  new Map(rows.map((row) => [`${row.node}@${row.time.getTime()}`, row]));

describe('shadow scoring, comparison and the gated promotion (real Kafka, InfluxDB)', () => {
  it('retrain → shadow → shadow points beside unchanged live points → compare → promote by the gate', async () => {
    const p = slice.open('shadow');
    const registry = await mkdtemp(path.join(tmpdir(), 'wsn-e2e-shadow-registry-'));
    cleanup.push(() => rm(registry, { recursive: true, force: true }));
    const env = {
      WSN_NETWORK: p.network,
      WSN_REGISTRY_DIR: registry,
      WSN_MODELS_TOPIC: `e2e.shadow.${p.id}.models`,
      WSN_INFLUX_DATABASE: p.database,
      WSN_ALERT_AFTER_TICKS: String(ALERTS.alertAfterTicks),
      WSN_RESOLVE_AFTER_TICKS: String(ALERTS.resolveAfterTicks),
    };
    expect((await cli(env, ['model', 'register', slice.model])).stdout).toMatch(/^registered v1 /);
    await cli(env, ['model', 'promote', 'v1']);

    // 1. The live model alone: the slice through ingest and a detector following the registry.
    await p.startIngest(slice.data.nodeFile);
    const live = await p.startDetector('live', slice.model, ALERTS, { alertmanager: false, registry: true, env });
    const sent = await replayInBackground(p, slice.data.dir, SPEED).sent;
    await waitFor('ingest to accept every reading', async () => (await p.ingestCounts()).accepted === sent);
    const emitted = (await p.ingestCounts()).frames;
    await waitFor('every emitted tick scored', async () => (await scoredTicks(p)) >= emitted - (WINDOW - 1), 180_000);
    const liveAlerts = counted(await metricsOf(live.port), 'wsn_detector_alerts_total');
    live.child.kill('SIGTERM');
    expect((await live.exited).code).toBe(0);
    const select = 'SELECT "probability", "is_anomaly", "node", "model" FROM "anomaly" WHERE "probability" >= 0';
    const firstRun = byNodeTick(await p.query<AnomalyRow>(select));
    expect(firstRun.size).toBeGreaterThan(0);
    const times = [...firstRun.values()].map((row) => row.time.getTime());
    const until = Math.max(...times) + TICK_MS;
    const since = `${(until - Math.min(...times)) / 1000}s`;
    const period = ['--since', since, '--until', new Date(until).toISOString()];

    // 2. A candidate from what InfluxDB holds now (a training of seconds).
    const retrain = await cli(env, ['retrain', ...period, '--epochs', '1', '--windows-per-epoch', '64']);
    expect(retrain.stdout).toMatch(new RegExp(`^registered v2 \\(network ${p.network}, parent v1\\)`, 'm'));

    // 3. Shadow it.
    expect((await cli(env, ['model', 'shadow', 'v2'])).stdout).toMatch(
      new RegExp(`^shadow-scoring v2 beside v1 in network ${p.network}, threshold `),
    );
    expect((await cli(env, ['model', 'list'])).stdout).toMatch(/^v2 .*shadowing \(since /m);

    // 4. A second detector scores the same frames again, v2 shadowing, into a database of its own.
    const database = `${p.database}_shadow`;
    const sink = new InfluxSink({ url: p.config.influx.url, database });
    cleanup.push(() => sink.dropDatabase());
    await sink.ensureDatabase();
    const port = await freePort();
    const t = `e2e.shadow.${p.id}.second`;
    const second = runCli(
      `shadow-${p.id}-detect-second`,
      [
        'detect',
        '--registry',
        ...['--group', `e2e-detector-second-${p.id}`, '--frames-topic', p.topics.frames],
        ...['--anomalies-topic', `${t}.anomalies`, '--alerts-topic', `${t}.alerts`, '--state-topic', `${t}.state`],
        ...['--influx-database', database, '--http-port', String(port), '--replica-id', 'second'],
        '--no-topology',
        '--no-alertmanager',
      ],
      { ...env, WSN_INFLUX_DATABASE: database, WSN_LOG_LEVEL: 'info' },
    );
    cleanup.push(async () => second.child.kill('SIGKILL'));
    const count = async (measurement: string): Promise<number> =>
      Number((await sink.query<{ n: number }>(`SELECT count("probability") AS "n" FROM "${measurement}"`))[0]?.n ?? 0);
    await waitFor(
      'the second run to score every node-tick',
      async () => (await count('anomaly')) >= firstRun.size,
      180_000,
    );
    await waitFor('its shadow points', async () => (await count('shadow')) > 0, 30_000);
    const secondMetrics = await metricsOf(port);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    // The routed alerts are the live model's alone: as many as the first run's.
    expect(counted(secondMetrics, 'wsn_detector_alerts_total')).toBe(liveAlerts);

    // The live points are those of the first run: same node-ticks, version, probabilities, verdicts.
    const secondRun = byNodeTick(await sink.query<AnomalyRow>(select));
    expect([...secondRun.keys()].sort()).toEqual([...firstRun.keys()].sort());
    for (const [key, row] of secondRun) {
      const before = firstRun.get(key)!;
      expect(row.model, key).toBe('v1');
      expect(row.probability, key).toBeCloseTo(before.probability, 6);
      expect(row.is_anomaly, key).toBe(before.is_anomaly);
    }
    // The shadow points: v2's, from the first frame (the shadow was named before the detector started)
    // with the same window as v1 (retrain keeps the parent's), so on exactly the node-ticks v1 scored.
    const shadow = await sink.query<AnomalyRow & { alert_started: boolean }>(
      'SELECT "probability", "is_anomaly", "alert_started", "node", "model" FROM "shadow"',
    );
    expect(new Set(shadow.map((row) => row.model))).toEqual(new Set(['v2']));
    expect(shadow.map((row) => `${row.node}@${row.time.getTime()}`).sort()).toEqual([...secondRun.keys()].sort());
    // Its episodes are counted on /metrics, one per alert_started point (no silence here).
    const started = shadow.filter((row) => row.alert_started).length;
    expect(counted(secondMetrics, 'wsn_detector_shadow_alerts_total{model="v2"}')).toBe(started);

    // 5. The numbers, over the period the shadow ran in.
    const shadowEnv = { ...env, WSN_INFLUX_DATABASE: database };
    const compared = await cli(shadowEnv, ['model', 'compare', 'v2', ...period, '--per-kind', '1', '--json']);
    const comparison = JSON.parse(compared.stdout) as {
      live: { version: string; nodeDays: number; perNodeDay: number };
      shadow: { version: string; nodeDays: number; perNodeDay: number };
      gate: { pass: boolean; reasons: string[] };
    };
    expect(comparison.live.version).toBe('v1');
    expect(comparison.shadow.version).toBe('v2');
    expect(comparison.shadow.nodeDays).toBeGreaterThan(0);
    expect(comparison.live.nodeDays).toBeCloseTo(comparison.shadow.nodeDays, 6);
    expect(Number.isFinite(comparison.live.perNodeDay) && Number.isFinite(comparison.shadow.perNodeDay)).toBe(true);
    const text = (await cli(shadowEnv, ['model', 'compare', 'v2', ...period, '--per-kind', '1'])).stdout;
    expect(text).toMatch(/^false alerts per node-day +\d+\.\d{3} +\d+\.\d{3}$/m);
    expect(text).toMatch(comparison.gate.pass ? /^gate: passes/m : /^gate: fails: /m);

    // 6. The gated promotion follows the gate; --force overrides a failing one and says so.
    const promote = cli(shadowEnv, ['model', 'promote', 'v2', ...period]);
    if (comparison.gate.pass) {
      expect((await promote).stdout).toMatch(/^promoted v2 in network .* \(was v1;/);
    } else {
      const refused = (await promote.catch((error: unknown) => error)) as { code: number; stderr: string };
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('error [MODEL_GATE_FAILED]: not promoting v2: the promotion gate fails');
      expect(refused.stderr).toMatch(/false alerts per node-day +\d+\.\d{3} +\d+\.\d{3}/);
      expect(JSON.parse((await cli(env, ['model', 'list', '--json'])).stdout).promoted.version).toBe('v1');
      const forced = await cli(shadowEnv, ['model', 'promote', 'v2', ...period, '--force']);
      expect(forced.stderr).toContain('model: promoting v2 although the gate fails (--force)');
      expect(forced.stdout).toMatch(/^promoted v2 in network .* \(was v1;/);
    }
    // Promoted, its shadow is over.
    expect((await cli(env, ['model', 'show', 'v2'])).stdout).toMatch(/^shadow: +shadow-scored from .* to /m);
  });
});
