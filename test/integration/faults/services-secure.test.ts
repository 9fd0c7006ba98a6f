import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import { secureTlsDir } from '../../../ops/services.ts';
import { tlsMaterialPaths } from '../../../ops/tls.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { createTransport } from '../../../transport/index.ts';
import { freePort } from '../../support/ports.ts';
import { waitFor } from '../../support/wait.ts';
import { runId } from '../foundation/services.ts';

// `wsn-watch services up --secure` in a state folder and on ports of its own:
// Kafka with SASL_SSL and client certificates, InfluxDB with auth; a client
// with the settings it names works, one without them is refused, and the
// command prints no password.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const KAFKA_PASSWORD = 'Secure-Kafka-Pa55';
const INFLUX_PASSWORD = 'Secure-Influx-Pa55';

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/wsn-watch.mjs', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env, WSN_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('services up --secure', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'wsn-secure-'));
  let env: NodeJS.ProcessEnv = {};

  afterAll(async () => {
    await cli(['services', 'down', '--purge'], env);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('starts Kafka with SASL_SSL and InfluxDB with auth; clients with the settings work, without them are refused', async () => {
    const [kafkaPort, influxPort] = [await freePort(), await freePort()];
    env = {
      WSN_STATE_DIR: stateDir,
      WSN_KAFKA_PORT: String(kafkaPort),
      WSN_KAFKA_CONTROLLER_PORT: String(await freePort()),
      WSN_INFLUX_PORT: String(influxPort),
      WSN_ALERTMANAGER_PORT: String(await freePort()),
      // Clients of these services, not the shared ones.
      WSN_KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
      WSN_INFLUX_URL: `http://127.0.0.1:${influxPort}`,
      WSN_ALERTMANAGER_URL: 'http://127.0.0.1:1',
      WSN_KAFKA_SASL_MECHANISM: 'scram-sha-256',
      WSN_KAFKA_SASL_USERNAME: 'wsn',
      WSN_KAFKA_SASL_PASSWORD: KAFKA_PASSWORD,
      WSN_INFLUX_USERNAME: 'wsn',
      WSN_INFLUX_PASSWORD: INFLUX_PASSWORD,
    };
    const missing = await cli(['services', 'up', '--secure'], { ...env, WSN_INFLUX_PASSWORD: '' });
    expect(missing.code).not.toBe(0);
    expect(missing.output).toMatch(/services up --secure needs influx\.username and influx\.password/);

    const up = await cli(['services', 'up', '--secure'], env);
    expect(up.code, up.output).toBe(0);
    expect(up.output).not.toContain(KAFKA_PASSWORD);
    expect(up.output).not.toContain(INFLUX_PASSWORD);
    const status = await cli(['services', 'status', '--secure', '--json'], env);
    expect(status.code, status.output).toBe(0);

    const base = loadConfig({ env });
    const tls = tlsMaterialPaths(secureTlsDir(base));
    const file = path.join(stateDir, 'client.json');
    writeFileSync(file, JSON.stringify({ kafka: { ssl: { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey } } }));
    const config = loadConfig({ file, env });
    const logger = createLogger('secure', 'silent');
    const transport = createTransport(config, { logger });
    const id = runId();
    try {
      await transport.ensureTopics([{ topic: `secure.${id}`, partitions: 1 }]);
      const producer = await transport.producer();
      await producer.send(`secure.${id}`, [{ key: 'k', value: 'secured' }]);
      await producer.close();
      const got: string[] = [];
      const sub = await transport.subscribe({
        groupId: `secure-${id}`,
        topics: [`secure.${id}`],
        fromBeginning: true,
        onBatch: async (b) => void got.push(...b.messages.map((m) => m.value.toString())),
      });
      await waitFor('the message over TLS', () => got.length > 0, 30_000, 100);
      await sub.close();
      expect(got).toEqual(['secured']);
    } finally {
      await transport.close();
    }
    const plain = createTransport(loadConfig({ env: { WSN_KAFKA_BROKERS: config.kafka.brokers[0] } }), { logger });
    await expect(plain.ensureTopics([{ topic: `secure.plain.${id}`, partitions: 1 }])).rejects.toThrow();
    await plain.close().catch(() => undefined);

    const sink = new InfluxSink({ url: config.influx.url, database: 'wsn_secure', auth: config.influx, retries: 0 });
    await sink.writePoints([
      { measurement: 'reading', tags: { node: '1' }, fields: { temperature: 20 }, timestamp: Date.UTC(2026, 0, 1) },
    ]);
    expect(
      (await sink.query<{ temperature: number }>('SELECT temperature FROM reading')).map((r) => r.temperature),
    ).toEqual([20]);
    await expect(
      new InfluxSink({ url: config.influx.url, database: 'wsn_secure', retries: 0 }).query('SELECT * FROM reading'),
    ).rejects.toThrow();
  });
});
