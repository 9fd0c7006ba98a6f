import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import type { Frame } from '../../../common/types.ts';
import { FileCheckpointStore } from '../../../ingest/checkpoint.ts';
import { NodeDirectory } from '../../../ingest/directory.ts';
import { publishPaced } from '../../../sources/publish.ts';
import { startIngestService } from '../../../ingest/service.ts';
import { Simulation, runSimulation } from '../../../sources/simulate.ts';
import type { IngestTopicNames } from '../../../ingest/topics.ts';
import { KafkaTransport } from '../../../transport/kafka.ts';
import { runId } from '../foundation/services.ts';
import { dropTopics, requireKafka, testAdmin } from '../../support/kafka.ts';
import { waitFor } from '../../support/wait.ts';

const T = 31_000;
const config = loadConfig({ env: { ...process.env, WSN_NETWORK: 'restart', WSN_PARTITION_IDLE_MS: '1000' } });

describe('ingest restart against the real Kafka', () => {
  const id = runId();
  const topics: IngestTopicNames = {
    readings: `test.readings.${id}`,
    readingsDlq: `test.readings.dlq.${id}`,
    frames: `test.frames.${id}`,
  };
  const admin = testAdmin(config, `itest-admin-${id}`);
  const transports: KafkaTransport[] = [];
  const transport = (): KafkaTransport => {
    const t = new KafkaTransport({
      brokers: config.kafka.brokers,
      clientId: `itest-restart-${id}`,
      retryBackoffMs: 100,
    });
    transports.push(t);
    return t;
  };

  beforeAll(async () => {
    await requireKafka(config);
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await dropTopics(admin, Object.values(topics));
  });

  it('stops gracefully and resumes from its checkpoint and committed offsets: no tick lost, repeated frames identical', async () => {
    const simulation = new Simulation({
      nodes: 12,
      seed: 9,
      network: 'restart',
      tickMs: T,
      startTs: 56_000_000 * T,
      lossRate: 0.05,
    });
    const directory = new NodeDirectory({
      network: 'restart',
      version: 'restart-v1',
      clusters: [
        { id: 'a', nodes: simulation.nodes.slice(0, 6).map((n) => ({ id: n.id, modalities: [] })) },
        { id: 'b', nodes: simulation.nodes.slice(6).map((n) => ({ id: n.id, modalities: [] })) },
      ],
    });
    const stateDir = mkdtempSync(join(tmpdir(), 'wsn-ingest-restart-'));
    const groupId = `itest-restart-${id}`;
    const start = () =>
      startIngestService({
        config,
        transport: transport(),
        directory,
        checkpoints: new FileCheckpointStore(stateDir, 'restart', groupId),
        logger: createLogger('t', 'silent'),
        http: false,
        groupId,
        topics,
      });

    const frames = new Map<string, string>();
    const conflicts: string[] = [];
    let received = 0;
    const readerTransport = transport();
    await readerTransport.ensureTopics([{ topic: topics.frames, partitions: 12 }]);
    const reader = await readerTransport.subscribe({
      groupId: `itest-restart-reader-${id}`,
      topics: [topics.frames],
      fromBeginning: true,
      onBatch: async (b) => {
        for (const m of b.messages) {
          received++;
          const frame = JSON.parse(m.value.toString()) as Frame;
          const key = `${frame.cluster}@${frame.tick}`;
          const previous = frames.get(key);
          if (previous !== undefined && previous !== m.value.toString()) conflicts.push(key);
          frames.set(key, m.value.toString());
        }
      },
    });

    const first = await start();
    const producerTransport = transport();
    const producer = await producerTransport.producer();
    // Rounds 0–29 go to the first instance …
    await runSimulation(simulation, { producer, topic: topics.readings, ticks: 30, speed: Infinity });
    await waitFor('frames of the first 27 ticks', () => frames.size >= 2 * 27);
    await first.stop();

    // … rounds 30–59 to the second, which restores the first one's state.
    const rest = {
      [Symbol.iterator]: function* () {
        for (let k = 30; k < 60; k++) yield* simulation.round(k).sort((x, y) => x.ts - y.ts);
      },
    };
    await publishPaced(rest, { producer, topic: topics.readings, speed: Infinity });
    const second = await start();
    await waitFor('frames of 57 ticks', () => frames.size >= 2 * 57);
    await second.stop();
    await producer.close();
    await reader.close();

    const ticks = [...new Set([...frames.keys()].map((k) => Number(k.split('@')[1])))].sort((x, y) => x - y);
    expect(ticks).toEqual(Array.from({ length: ticks.length }, (_, k) => simulation.startTs + k * T));
    expect(ticks.length).toBeGreaterThanOrEqual(57);
    expect(conflicts).toEqual([]);
    expect(received).toBeGreaterThanOrEqual(frames.size);
    // Frames after the restart carry values the first instance had seen (the last known values survived).
    const tick30 = JSON.parse(frames.get(`a@${simulation.startTs + 30 * T}`) as string) as Frame;
    expect(tick30.nodes.every((n) => Object.values(n.values).every((v) => v !== null))).toBe(true);
    for (const [k, raw] of frames) {
      const frame = JSON.parse(raw) as Frame;
      const tick = Math.round((frame.tick - simulation.startTs) / T);
      for (const reading of simulation.round(tick)) {
        const node = frame.nodes.find((n) => n.node === reading.node);
        if (node) expect(node.values, `${k} node ${reading.node}`).toEqual(reading.values);
      }
    }
  });
});
