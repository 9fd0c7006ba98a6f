import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.ts';
import type { Reading } from '../../../common/types.ts';
import { publishPaced } from '../../../sources/publish.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';
import { runId } from '../foundation/services.ts';
import { ownKafka, type OwnService } from './own-services.ts';
import { sleepUntilElapsed, waitFor } from '../../support/wait.ts';

// Fault scenario "Kafka stopped for 30 s", on a broker of the suite's own: a
// paced publisher (what `replay` and `simulate` run) and a consumer group
// (what ingest and the detector run) keep going through the outage and after
// it, with nothing lost and nothing written twice.

const OUTAGE_MS = 30_000;
const N = 300;
const T0 = Date.UTC(2025, 0, 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads `topic` from the beginning in `groupId` and counts the deliveries of each reading (by its timestamp). */
async function countReadings(transport: KafkaTransport, groupId: string, topic: string) {
  const counts = new Map<number, number>();
  const subscription = await transport.subscribe({
    groupId,
    topics: [topic],
    fromBeginning: true,
    onBatch: async (batch) => {
      for (const m of batch.messages) {
        const ts = (JSON.parse(m.value.toString()) as Reading).ts;
        counts.set(ts, (counts.get(ts) ?? 0) + 1);
      }
    },
  });
  return { counts, subscription };
}

describe('fault: Kafka stopped for 30 s (own broker)', () => {
  let kafka: OwnService;
  let transport: KafkaTransport | undefined;

  beforeAll(async () => {
    kafka = await ownKafka();
    await kafka.start();
  });

  afterAll(async () => {
    await transport?.close().catch(() => undefined);
    await kafka?.remove();
  });

  it('a paced publisher and a consumer group resume after the outage: every reading once in the log and consumed, health reports the outage', async () => {
    const id = runId();
    const topic = `fault.kafka.${id}`;
    transport = new KafkaTransport({
      brokers: [kafka.address],
      clientId: `fault-${id}`,
      retryBackoffMs: 200,
      sessionTimeoutMs: 10_000,
      logger: createLogger('fault-kafka', process.env.WSN_LOG_LEVEL ?? 'silent'),
    });
    await transport.ensureTopics([{ topic, partitions: 3 }]);

    const { counts: consumed, subscription } = await countReadings(transport, `fault-group-${id}`, topic);
    const producer = await transport.producer();
    // One reading per event second at 5× speed: 60 s of sending, the outage in the middle.
    const readings: Reading[] = Array.from({ length: N }, (_, i) => ({
      network: 'fault',
      node: String(i % 10),
      ts: T0 + i * 1_000,
      values: { temperature: i },
    }));
    const publishing = publishPaced(readings, { producer, topic, speed: 5, batchSize: 10 });

    await waitFor('the first readings to be consumed', () => consumed.size >= 40);
    const healthSeen = new Set<string>();
    const watcher = setInterval(
      () => transport?.health().forEach((line) => healthSeen.add(line.replace(/ \(for \d+ s\)$/, ''))),
      250,
    );
    await kafka.stop();
    const stoppedAt = Date.now();
    await sleepUntilElapsed(OUTAGE_MS, stoppedAt);
    const downFor = Date.now() - stoppedAt;
    await kafka.start();
    const result = await publishing;
    await waitFor(`all ${N} readings consumed`, () => consumed.size === N);
    await waitFor('health to clear', () => transport!.health().length === 0, 120_000);
    clearInterval(watcher);
    await subscription.close();
    await producer.close();

    expect(downFor).toBeGreaterThanOrEqual(OUTAGE_MS);
    expect(result).toEqual({ sent: N, eventTs: T0 + (N - 1) * 1_000, done: true });
    expect([...consumed.keys()].sort((a, b) => a - b)).toEqual(readings.map((r) => r.ts));
    // The outage was visible (this is what makes /readyz answer 503).
    expect(
      [...healthSeen].some((line) => /^producer fault-|^consumer fault-group-/.test(line)),
      [...healthSeen].join('\n'),
    ).toBe(true);

    // The log itself: each reading exactly once (idempotent producer, retried batches not duplicated).
    const { counts: inLog, subscription: reader } = await countReadings(transport, `fault-reader-${id}`, topic);
    await waitFor('the log to be read back', () => inLog.size === N);
    await sleep(2_000);
    await reader.close();
    const duplicates = [...inLog.values()].filter((count) => count > 1).length;
    const redelivered = [...consumed.values()].filter((count) => count > 1).length;
    process.stderr.write(
      `[fault suite] kafka outage: down ${Math.round(downFor / 1000)} s; ${N} sent, ${consumed.size} consumed (${redelivered} redelivered), ${inLog.size} in the log, ${duplicates} duplicated; health lines seen: ${[...healthSeen].join(' | ')}\n`,
    );
    expect(inLog.size).toBe(N);
    expect(duplicates).toBe(0);
  });
});
