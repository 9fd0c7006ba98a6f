import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';
import { influx, makeFrames, startDetector, uniqueId, type DetectorProcess } from '../detector/harness.ts';
import { scoredClusterTicks } from '../../support/influx.ts';
import { waitFor } from '../../support/wait.ts';
import { ownKafka, type OwnService } from './own-services.ts';

// Fault scenarios "the detector is stopped after its state topic was deleted"
// and "… while Kafka is down", on a broker of the suite's own: the detector
// holds checkpoints it has not written yet (the default cadence writes them
// every 5 minutes), Kafka does not take them, and SIGTERM must still end the
// process within its stop timeout, saying what it gave up.

const STOP_TIMEOUT_MS = 8_000;

describe('fault: detector stopped while Kafka does not take its writes (own broker)', () => {
  let kafka: OwnService;
  const detectors: DetectorProcess[] = [];
  const databases: string[] = [];

  beforeAll(async () => {
    kafka = await ownKafka();
    await kafka.start();
  });

  afterAll(async () => {
    for (const { child } of detectors) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await kafka?.remove();
    for (const database of databases)
      await influx(database)
        .query(`DROP DATABASE "${database}"`)
        .catch(() => undefined);
  });

  /** A detector on the own broker that has scored 2 clusters × 31 ticks, their checkpoints waiting for the 5-minute cadence. */
  async function scoringDetector(id: string): Promise<DetectorProcess> {
    const database = `it_stop_outage_${id}`;
    databases.push(database);
    const transport = new KafkaTransport({
      brokers: [kafka.address],
      clientId: `fault-stop-${id}`,
      logger: createLogger('fault-stop', 'silent'),
    });
    await transport.ensureTopics([{ topic: `it.frames.${id}`, partitions: 4 }]);
    const detector = await startDetector({
      id,
      replicaId: 'stop-outage',
      database,
      alertmanager: false,
      env: { WSN_KAFKA_BROKERS: kafka.address, WSN_KAFKA_STOP_TIMEOUT_MS: String(STOP_TIMEOUT_MS) },
    });
    detectors.push(detector);
    const frames = makeFrames('stop-outage', 2, 0, 30);
    const producer = await transport.producer();
    await producer.send(
      `it.frames.${id}`,
      frames.map((frame) => ({ key: frame.cluster, value: JSON.stringify(frame) })),
    );
    await producer.close();
    await transport.close();
    const sink = influx(database);
    await waitFor('the last tick scored', async () => (await scoredClusterTicks(sink)).size >= 2 * 20, 120_000);
    return detector;
  }

  /** SIGTERM: the process must end within the stop timeout (plus kafkajs's last attempt), saying what it gave up. */
  async function expectBoundedStop(detector: DetectorProcess): Promise<void> {
    const signalled = Date.now();
    detector.child.kill('SIGTERM');
    const exit = await Promise.race([
      detector.exited,
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), STOP_TIMEOUT_MS + 60_000)),
    ]);
    const log = readFileSync(detector.logFile, 'utf8');
    expect(exit, `the detector's log:\n${log.slice(-4000)}`).not.toBe('still running');
    expect(Date.now() - signalled).toBeLessThan(STOP_TIMEOUT_MS + 30_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(log).toMatch(
      /still writing after 8 s \(kafka.stopTimeoutMs\); from now on a write Kafka does not take is given up/,
    );
    expect(log).toMatch(/pending checkpoints not written; a restart replays the frames since the last one/);
  }

  it('its state topic deleted: exits within the stop timeout, logging the checkpoints it could not write', async () => {
    const id = uniqueId();
    const detector = await scoringDetector(id);
    const admin = new Kafka({
      brokers: [kafka.address],
      clientId: `fault-stop-admin-${id}`,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [`it.state.${id}`] });
    await admin.disconnect();
    await expectBoundedStop(detector);
  }, 300_000);

  it('Kafka down: exits within the stop timeout, logging the checkpoints it could not write', async () => {
    const detector = await scoringDetector(uniqueId());
    await kafka.stop();
    await expectBoundedStop(detector);
  }, 300_000);
});
