/**
 * The IBRL end-to-end run on secured services: `wsn-watch services up
 * --secure` in a state folder and on ports of its own starts Kafka with a
 * SASL_SSL listener that requires client certificates (SCRAM-SHA-256 users)
 * and InfluxDB with auth. Ingest (in-process), `wsn-watch detect`, `wsn-watch
 * replay ibrl` and `wsn-watch topology publish|follow` reach them only with
 * `kafka.sasl`, `kafka.ssl` and `influx.username`/`password`, and the surge
 * of ibrl-anomaly.test.ts gives the same outcome as on the plain services.
 * No password shows up in any log line or output. The services it started
 * are stopped and removed afterwards.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { secureTlsDir } from '../../../ops/services.ts';
import { tlsMaterialPaths } from '../../../ops/tls.ts';
import { ibrlToReading, streamIbrl } from '../../../sources/ibrl-reader.ts';
import { StreamInjector, parseInjection } from '../../../sources/stream-inject.ts';
import { freePort } from '../../support/ports.ts';
import { waitFor } from '../../support/wait.ts';
import {
  FIRST_EPOCH,
  LAST_EPOCH,
  SLICE_ALERTS as ALERTS,
  WINDOW,
  repoRoot,
  sliceFolder,
  sliceModel,
} from './ibrl-slice.ts';
import { Pipeline, TICK_MS, alertsOf, expectFlaggedAfterInjection, type PipelineServices } from './pipeline.ts';
import { scoredClusterTicks } from '../../support/influx.ts';

// Made up per run, so a match in a log can only come from this run's secrets.
const KAFKA_PASSWORD = `kafka-${randomBytes(8).toString('hex')}`;
const INFLUX_PASSWORD = `influx-${randomBytes(8).toString('hex')}`;

/** The surge of ibrl-anomaly.test.ts: +20 °C on mote 45 for 5 readings, 200 rounds into the slice. */
const TARGET = '45';
const INJECTION = `${TARGET}:temperature:surge:${FIRST_EPOCH + 200}:5`;

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/wsn-watch.mjs', ...args], {
      cwd: repoRoot,
      env: { ...process.env, WSN_CONFIG: '', WSN_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** The event time of the first reading the replay's injector changes. */
async function firstInjectedTime(dir: string): Promise<number> {
  const injector = new StreamInjector([parseInjection(INJECTION)]);
  for await (const raw of streamIbrl(dir, { fromEpoch: FIRST_EPOCH, toEpoch: LAST_EPOCH }))
    injector.apply(ibrlToReading(raw, 'truth'), raw.epoch);
  expect(injector.applied).toHaveLength(5);
  return injector.applied[0].ts;
}

describe('IBRL replay end to end on secured services (Kafka SASL_SSL + client certificates, InfluxDB auth)', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'wsn-e2e-secure-'));
  let env: Record<string, string> = {};
  let services: PipelineServices | undefined;
  let data: { dir: string; nodeFile: string } | undefined;
  let model: string | undefined;
  const outputs: string[] = [];
  let pipeline: Pipeline | undefined;

  beforeAll(async () => {
    data = await sliceFolder();
    model = await sliceModel((message) => process.stderr.write(`${message}\n`));
    const [kafkaPort, influxPort, alertmanagerPort] = [await freePort(), await freePort(), await freePort()];
    env = {
      WSN_STATE_DIR: stateDir,
      WSN_KAFKA_PORT: String(kafkaPort),
      WSN_KAFKA_CONTROLLER_PORT: String(await freePort()),
      WSN_INFLUX_PORT: String(influxPort),
      WSN_ALERTMANAGER_PORT: String(alertmanagerPort),
      WSN_KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
      WSN_INFLUX_URL: `http://127.0.0.1:${influxPort}`,
      WSN_ALERTMANAGER_URL: `http://127.0.0.1:${alertmanagerPort}`,
      WSN_KAFKA_SASL_MECHANISM: 'scram-sha-256',
      WSN_KAFKA_SASL_USERNAME: 'wsn',
      WSN_KAFKA_SASL_PASSWORD: KAFKA_PASSWORD,
      WSN_INFLUX_USERNAME: 'wsn',
      WSN_INFLUX_PASSWORD: INFLUX_PASSWORD,
    };
    const up = await cli(['services', 'up', '--secure'], env);
    outputs.push(up.output);
    if (up.code !== 0) throw new Error(`services up --secure failed:\n${up.output}`);
    const tls = tlsMaterialPaths(secureTlsDir(loadConfig({ env })));
    const configFile = path.join(stateDir, 'client.json');
    writeFileSync(
      configFile,
      JSON.stringify({ kafka: { ssl: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } } }),
    );
    services = { env, configFile };
  }, 600_000);

  afterAll(async () => {
    await pipeline?.close();
    const down = await cli(['services', 'down', '--purge'], env);
    if (down.code !== 0) process.stderr.write(`services down --purge: ${down.output}\n`);
    rmSync(stateDir, { recursive: true, force: true });
  }, 300_000);

  it('flags the surge within 2 ticks and alerts on that node only, as on plain services; topology over SASL_SSL; no password in any log', async () => {
    if (!services || !data || !model) throw new Error('beforeAll did not finish');
    const injectionTick = Math.floor((await firstInjectedTime(data.dir)) / TICK_MS) * TICK_MS;
    pipeline = new Pipeline('secure', services);
    expect(pipeline.config.kafka.sasl?.password).toBe(KAFKA_PASSWORD);
    await pipeline.startIngest(data.nodeFile);
    const clusters = pipeline.directory!.clusters;
    expect(clusters).toHaveLength(1);
    await pipeline.startDetector('d1', model, ALERTS);
    const sent = await pipeline.replay(data.dir, [
      '--speed',
      'max',
      '--from-epoch',
      String(FIRST_EPOCH),
      '--to-epoch',
      String(LAST_EPOCH),
      '--inject',
      INJECTION,
    ]);

    // Every reading accepted and every emitted tick scored in the secured InfluxDB
    // (one cluster, one frame per tick; the first WINDOW - 1 ticks fill the window).
    await waitFor('ingest to accept every reading', async () => (await pipeline!.ingestCounts()).accepted === sent);
    const { rejected, frames } = await pipeline.ingestCounts();
    expect(rejected).toBe(0);
    await waitFor('the detector to score every emitted tick', async () => {
      return (await scoredClusterTicks(pipeline!)).size === frames - (WINDOW - 1);
    });

    // Flagged at the injection's tick or within 2 ticks after it, never before.
    const { firstFlag } = await expectFlaggedAfterInjection(pipeline, TARGET, injectionTick);

    // One alert, on the target only, from the first flagged tick, resolved once the surge was over (the
    // whole slice is replayed at once, so it has come and gone in Alertmanager; the plain test watches it
    // there): exactly two transitions on the topic.
    const transitions = await pipeline.alertTransitions(2);
    expect(transitions.map((alert) => `${alert.node}:${alert.modality}:${alert.status}`)).toEqual([
      `${TARGET}:temperature:firing`,
      `${TARGET}:temperature:resolved`,
    ]);
    expect(transitions[0].startsAt).toBe(firstFlag);
    expect(await alertsOf(pipeline.config, pipeline.network)).toEqual([]);

    // The topology publisher and follower take the same settings.
    const topologyEnv = { ...env, WSN_CONFIG: services.configFile!, WSN_NETWORK: pipeline.network };
    const published = await cli(['topology', 'publish', data.nodeFile], topologyEnv);
    outputs.push(published.output);
    expect(published.code, published.output).toBe(0);
    const version = /published network "[^"]+": \d+ record\(s\), 0 tombstone\(s\), version (\w+)/.exec(
      published.output,
    );
    expect(version, published.output).not.toBeNull();
    const followed = await cli(['topology', 'follow', '--once', '--timeout', '120'], topologyEnv);
    outputs.push(followed.output);
    expect(followed.code, followed.output).toBe(0);
    expect(followed.output).toContain(`version ${version![1]}: 8 nodes`);

    // No password in any log line or output of this run.
    await pipeline.close();
    const logs = [...pipeline.logFiles().map((file) => readFileSync(file, 'utf8')), pipeline.childOutput(), ...outputs];
    const lines = logs.flatMap((text) => text.split('\n')).filter((line) => line.trim() !== '');
    // The services' start, ingest and the Kafka clients, the detector, the replay, the topology commands.
    expect(lines.length).toBeGreaterThan(20);
    for (const secret of [KAFKA_PASSWORD, INFLUX_PASSWORD])
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    process.stderr.write(
      `[e2e secure] ${sent} readings over SASL_SSL, ${frames - (WINDOW - 1)} ticks scored in InfluxDB with auth, first flag ${(firstFlag - injectionTick) / TICK_MS} tick(s) after the injection, alert transitions ${transitions.map((t) => `${t.node}:${t.status}`).join(',')}; ${lines.length} log and output lines, 0 with a password\n`,
    );
  });
});
