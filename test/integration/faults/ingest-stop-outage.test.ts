import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import type { Frame } from '../../../common/types.ts';
import { INGEST_STATE_PARTITIONS } from '../../../ingest/partition-state.ts';
import { startIngestService } from '../../../ingest/service.ts';
import type { IngestTopicNames } from '../../../ingest/topics.ts';
import { Simulation, runSimulation } from '../../../sources/simulate.ts';
import { NodeDirectory } from '../../../ingest/directory.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';
import { runId } from '../foundation/services.ts';
import { waitFor } from '../../support/wait.ts';
import { ownKafka, type OwnService } from './own-services.ts';

// Fault scenario "ingest is stopped while Kafka is down", on a broker of the
// suite's own: ingest keeps its state per partition on a compacted topic and
// has readings it has not saved yet; Kafka goes away, and the stop must still
// end within kafka.stopTimeoutMs (plus kafkajs's own last attempt), giving
// the unsaved state up to a replay from the committed offsets.

const STOP_TIMEOUT_MS = 5_000;
const T = 31_000;

describe('fault: ingest stopped while Kafka is down (own broker)', () => {
  let kafka: OwnService;
  const transports: KafkaTransport[] = [];

  beforeAll(async () => {
    kafka = await ownKafka();
    await kafka.start();
  });

  afterAll(async () => {
    await kafka?.remove();
  });

  it('stop() returns within the stop timeout, and the transport closes', async () => {
    const id = runId();
    const config = loadConfig({
      env: {
        ...process.env,
        WSN_CONFIG: '',
        WSN_NETWORK: 'stop-outage',
        WSN_KAFKA_BROKERS: kafka.address,
        WSN_KAFKA_STOP_TIMEOUT_MS: String(STOP_TIMEOUT_MS),
        WSN_INGEST_STATE_TOPIC: `test.ingest-state.${id}`,
      },
    });
    const topics: IngestTopicNames = {
      readings: `test.readings.${id}`,
      readingsDlq: `test.readings.dlq.${id}`,
      frames: `test.frames.${id}`,
    };
    const transport = (): KafkaTransport => {
      const t = new KafkaTransport({
        brokers: [kafka.address],
        clientId: `stop-outage-${id}`,
        logger: createLogger('t', 'silent'),
      });
      transports.push(t);
      return t;
    };
    const simulation = new Simulation({
      nodes: 6,
      seed: 4,
      network: 'stop-outage',
      tickMs: T,
      startTs: 56_000_000 * T,
    });
    const directory = new NodeDirectory({
      network: 'stop-outage',
      version: 'v1',
      clusters: [{ id: 'a', nodes: simulation.nodes.map((n) => ({ id: n.id, modalities: [] })) }],
    });
    const ingestTransport = transport();
    const ingest = await startIngestService({
      config,
      transport: ingestTransport,
      directory,
      sharedState: ingestTransport.table({ topic: config.ingest.stateTopic, partitions: INGEST_STATE_PARTITIONS }),
      logger: createLogger('ingest', process.env.WSN_LOG_LEVEL ?? 'silent'),
      http: false,
      groupId: `stop-outage-${id}`,
      topics,
    });
    const frames = new Set<number>();
    const readerTransport = transport();
    const reader = await readerTransport.subscribe({
      groupId: `stop-outage-reader-${id}`,
      topics: [topics.frames],
      fromBeginning: true,
      onBatch: async (batch) => {
        for (const m of batch.messages) frames.add((JSON.parse(m.value.toString()) as Frame).tick);
      },
    });
    const producerTransport = transport();
    const producer = await producerTransport.producer();
    await runSimulation(simulation, { producer, topic: topics.readings, ticks: 12, speed: Infinity });
    // Frames out, state not saved yet: a partition's state is saved every 2,000 readings or 10 s.
    await waitFor('frames of the first ticks', () => frames.size >= 8, 60_000);
    await reader.close();
    await producer.close();

    await kafka.stop();
    const began = Date.now();
    const stopped = await Promise.race([
      ingest.stop().then(() => 'stopped' as const),
      new Promise<'still stopping'>((resolve) => setTimeout(() => resolve('still stopping'), STOP_TIMEOUT_MS + 60_000)),
    ]);
    expect(stopped).toBe('stopped');
    expect(Date.now() - began).toBeLessThan(STOP_TIMEOUT_MS + 30_000);
    const closed = await Promise.race([
      Promise.all(transports.map((t) => t.close())).then(() => 'closed' as const),
      new Promise<'still closing'>((resolve) => setTimeout(() => resolve('still closing'), 30_000)),
    ]);
    expect(closed).toBe('closed');
  }, 300_000);
});
