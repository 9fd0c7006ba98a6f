import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../common/types.ts';
import { ClusterAlerts, alertPolicyFromConfig } from '../../../detector/alerts/tracker.ts';
import { dropTopics, testAdmin } from '../../support/kafka.ts';
import { waitFor } from '../../support/wait.ts';
import {
  alertmanagerAlerts,
  config,
  influx,
  makeFrames,
  nodeCourse,
  repoRoot,
  TICK_MS,
  uniqueId,
  useDetectorSuite,
  WARMUP_TICKS,
  type DetectorProcess,
} from './harness.ts';

// Maintenance silences end to end on the real services: the `silence` CLI writes the silences topic, the
// detector (child process, real small model) follows it, InfluxDB keeps the points, Alertmanager gets the
// mirrored silence and, after the silence is expired, the alert.

interface GettableSilence {
  id: string;
  status: { state: string };
  matchers: Array<{ name: string; value: string; isEqual?: boolean; isRegex: boolean }>;
  comment: string;
  createdBy: string;
}

const id = uniqueId();
const network = `it-silences-${id}`;
const database = `wsn_it_silences_${id}`;
const silencesTopic = `it.silences.${id}`;
/** Never resolve during the test: the fault's alert stays firing in the tracker until the silence is expired. */
const NEVER_RESOLVE = '100000';

function cli(args: string[]): string {
  const result = spawnSync(process.execPath, ['bin/wsn-watch.mjs', 'silence', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: {
      ...process.env,
      WSN_CONFIG: '',
      WSN_NETWORK: network,
      WSN_SILENCES_TOPIC: silencesTopic,
      WSN_INFLUX_DATABASE: database,
    },
  });
  if (result.status !== 0) throw new Error(`silence ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

const alertsFor = (node: string) => alertmanagerAlerts(network, node);

async function mirrorsOf(silenceId: string): Promise<GettableSilence[]> {
  const response = await fetch(`${config.alertmanager.url}/api/v2/silences`);
  expect(response.status).toBe(200);
  return ((await response.json()) as GettableSilence[]).filter(
    (s) => s.status.state !== 'expired' && s.comment.endsWith(`[wsn-watch silence ${silenceId} from ${silencesTopic}]`),
  );
}

async function metric(name: string): Promise<number> {
  // A fresh connection per scrape: a reused keep-alive socket the server just closed fails the fetch.
  const response = await fetch(`http://127.0.0.1:${detector!.port}/metrics`, { headers: { connection: 'close' } });
  const text = await response.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

/**
 * A threshold under which the target node fires an anomaly alert (two ticks in a row above it, after the
 * model's context warm-up), from the model's own probabilities on these frames, and the tick it fires at.
 */
async function firingThreshold(frames: Frame[], node: string): Promise<{ threshold: number; firedAt: number }> {
  const { ticks, observations, thresholds, probabilities } = await nodeCourse(frames, 'c0', node);
  for (const threshold of thresholds) {
    const policy = alertPolicyFromConfig({
      ...config,
      detector: { ...config.detector, threshold, alertAfterTicks: 2, resolveAfterTicks: Number(NEVER_RESOLVE) },
    });
    const alerts = new ClusterAlerts(network, 'c0', policy);
    for (const tick of ticks) {
      const fired = alerts.observe(tick, observations.get(tick)!).find((a) => a.node === node && a.status === 'firing');
      // Leave ticks after the firing one for the two phases of the test.
      if (fired && tick <= ticks.at(-1)! - 12 * TICK_MS) return { threshold, firedAt: tick };
    }
  }
  throw new Error(`no threshold makes node ${node} fire early enough; its probabilities: ${probabilities.join(', ')}`);
}

const suite = useDetectorSuite('wsn-detector-it-silences', async () => {
  const admin = testAdmin(config, 'wsn-it-silences-cleanup');
  await admin.connect();
  await dropTopics(admin, [silencesTopic]);
  await influx(database)
    .dropDatabase()
    .catch(() => undefined);
});
let detector: DetectorProcess | undefined;

describe('maintenance silences (real Kafka, InfluxDB, Alertmanager; detector and CLI as child processes)', () => {
  it('silenced node with a fault: no alert, points stored and marked, silence mirrored; expired: the alert fires', async () => {
    const frames = makeFrames(network, 1, 0, WARMUP_TICKS + 60, {
      surge: { cluster: 0, node: 0, ticks: [WARMUP_TICKS + 18, WARMUP_TICKS + 60] },
    });
    const node = frames[0].nodes[0].node;
    const plan = await firingThreshold(frames, node);

    const added = cli(['add', '--node', node, '--for', '2h', '--reason', 'battery swap', '--by', 'it-test']);
    const silenceId = added.split('\t')[0];
    expect(silenceId).toMatch(/^sil-[0-9a-f]{8}$/);
    expect(added).toContain(`node ${node} (network ${network}) silenced until`);
    expect(cli(['list'])).toMatch(new RegExp(`${silenceId}\\s+active\\s+${network}\\s+${node}\\s+\\(all\\)`));

    detector = await suite.start({
      id,
      replicaId: 'silences',
      database,
      threshold: plan.threshold,
      env: {
        WSN_RESOLVE_AFTER_TICKS: NEVER_RESOLVE,
        WSN_SILENCES_TOPIC: silencesTopic,
        WSN_SILENCES_REFRESH_MS: '500',
      },
    });
    expect(await metric('wsn_detector_silences_active')).toBe(1);
    // Mirrored to Alertmanager with matchers on the labels the alerts carry.
    await waitFor(
      'the mirrored silence in Alertmanager',
      async () => (await mirrorsOf(silenceId)).length === 1,
      30_000,
    );
    const [mirror] = await mirrorsOf(silenceId);
    expect(mirror.status.state).toBe('active');
    expect(mirror.comment).toBe(`battery swap [wsn-watch silence ${silenceId} from ${silencesTopic}]`);
    expect(mirror.createdBy).toBe('it-test');
    expect(mirror.matchers.map((m) => [m.name, m.value, m.isRegex])).toEqual([
      ['network', network, false],
      ['node', node, false],
    ]);

    const send = (list: Frame[]) => suite.send(id, list);
    // Phase 1, silenced: the fault goes on past the tick the alert would fire at.
    const phase1End = plan.firedAt + 4 * TICK_MS;
    await send(frames.filter((f) => f.tick <= phase1End));
    const sink = influx(database);
    type Row = { time: Date; probability: number; is_anomaly: boolean; silenced: boolean };
    const rowsOf = () =>
      sink
        .query<Row>(`SELECT probability, is_anomaly, silenced FROM anomaly WHERE "node" = '${node}'`)
        .catch(() => [] as Row[]);
    await waitFor(
      'the silenced ticks in InfluxDB',
      async () => (await rowsOf()).some((r) => r.time.getTime() === phase1End),
      120_000,
    );
    await waitFor(
      'the suppressed alert',
      async () => (await metric('wsn_detector_alerts_suppressed_total')) >= 1,
      30_000,
    );
    const silencedRows = (await rowsOf()).filter((r) => r.time.getTime() >= plan.firedAt);
    expect(silencedRows.length).toBe(5);
    expect(silencedRows.every((r) => r.silenced === true)).toBe(true);
    expect(silencedRows.some((r) => r.is_anomaly === true && r.probability > plan.threshold)).toBe(true);
    expect(await alertsFor(node)).toEqual([]);

    // The silence point for Grafana and the built-in dashboard.
    const points = await sink.query<{ node: string; reason: string; author: string; ends_at: number }>(
      `SELECT node, reason, author, ends_at FROM silence WHERE "id" = '${silenceId}'`,
    );
    expect([...points]).toEqual([expect.objectContaining({ node, reason: 'battery swap', author: 'it-test' })]);

    // Expired early: the mirror is expired too, and the alert fires at the next ticks since the fault goes on.
    expect(cli(['expire', silenceId])).toContain(`${silenceId}\texpired`);
    await waitFor(
      'the detector to see the expiry',
      async () => (await metric('wsn_detector_silences_active')) === 0,
      30_000,
    );
    await waitFor('the mirror to expire', async () => (await mirrorsOf(silenceId)).length === 0, 30_000);
    const phase2End = phase1End + 4 * TICK_MS;
    await send(frames.filter((f) => f.tick > phase1End && f.tick <= phase2End));
    await waitFor('the alert in Alertmanager', async () => (await alertsFor(node)).length > 0, 120_000);
    const [alert] = await alertsFor(node);
    expect(alert.labels).toMatchObject({ alertname: 'WsnNodeAnomaly', network, node });
    expect(alert.status.state).toBe('active');
    await waitFor(
      'the unsilenced ticks in InfluxDB',
      async () => (await rowsOf()).some((r) => r.time.getTime() === phase2End),
      60_000,
    );
    expect((await rowsOf()).filter((r) => r.time.getTime() > phase1End).every((r) => r.silenced === false)).toBe(true);
    expect(cli(['list', '--all'])).toMatch(new RegExp(`${silenceId}\\s+expired early`));

    // A silence that starts while the alert fires: the detector resolves it (reason "silenced"), so
    // Alertmanager no longer lists it at all (a merely muted alert would still be listed, as suppressed).
    const second = cli(['add', '--node', node, '--for', '1h', '--reason', 'sensor swap', '--by', 'it-test']).split(
      '\t',
    )[0];
    await waitFor(
      'the detector to see the new silence',
      async () => (await metric('wsn_detector_silences_active')) === 1,
      30_000,
    );
    const phase3End = phase2End + 3 * TICK_MS;
    await send(frames.filter((f) => f.tick > phase2End && f.tick <= phase3End));
    await waitFor('the alert to resolve in Alertmanager', async () => (await alertsFor(node)).length === 0, 120_000);
    expect(cli(['expire', second])).toContain(`${second}\texpired`);
    await waitFor('the second mirror to expire', async () => (await mirrorsOf(second)).length === 0, 30_000);

    detector.child.kill('SIGTERM');
    expect((await detector.exited).code).toBe(0);
    // Resolve what the test left firing in the shared Alertmanager.
    await fetch(`${config.alertmanager.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: alert.labels, endsAt: new Date(Date.now() - 1_000).toISOString() }]),
    });
  });
});
