import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import type { Frame } from '../../../common/types.ts';
import { MemoryCheckpointStore } from '../../../ingest/checkpoint.ts';
import { NodeDirectory } from '../../../ingest/directory.ts';
import { startIngestService, type IngestService } from '../../../ingest/service.ts';
import { MemoryTransport } from '../../../transport/memory.ts';
import { countOf } from '../../support/metrics.ts';
import { waitFor } from '../../support/wait.ts';

const T = 31_000;
const T0 = 55_000_000 * T;
const config = loadConfig({ env: {} });
const topics = { readings: 'r', readingsDlq: 'r.dlq', frames: 'f' };
const directory = new NodeDirectory({
  network: config.network,
  version: 'v1',
  clusters: ['c-1', 'c-2', 'c-3', 'c-4'].map((id, c) => ({
    id,
    nodes: [0, 1].map((n) => ({ id: String(c * 10 + n), modalities: ['temperature'] })),
  })),
});

/** A logger whose lines the test can read. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('test', 'info', sink), lines };
}

const services: IngestService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.stop()));
});

async function start(
  transport: MemoryTransport,
  state: 'file' | 'kafka',
  logger = createLogger('test', 'silent'),
): Promise<IngestService> {
  const service = await startIngestService({
    config,
    transport,
    directory,
    logger,
    http: false,
    groupId: 'g',
    topics,
    ...(state === 'file'
      ? { checkpoints: new MemoryCheckpointStore() }
      : { sharedState: transport.table({ topic: 'ingest-state', partitions: 1 }) }),
  });
  services.push(service);
  return service;
}

/** Ticks from..to of every node, keyed by cluster. */
async function sendTicks(transport: MemoryTransport, from: number, to: number): Promise<void> {
  const producer = await transport.producer();
  for (let k = from; k < to; k++)
    await producer.send(
      topics.readings,
      directory.clusters.flatMap((cluster) =>
        cluster.nodes.map((node) => ({
          key: cluster.id,
          value: JSON.stringify({ node, ts: T0 + k * T + 1_000, values: { temperature: k } }),
        })),
      ),
    );
}

async function frames(transport: MemoryTransport): Promise<Frame[]> {
  const out: Frame[] = [];
  const subscription = await transport.subscribe({
    groupId: `reader-${Math.random()}`,
    topics: [topics.frames],
    fromBeginning: true,
    onBatch: async (batch) => void out.push(...batch.messages.map((m) => JSON.parse(m.value.toString()) as Frame)),
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await subscription.close();
  return out;
}

describe('ingest service with --state kafka (in-process transport)', () => {
  it('two services in one group share the partitions; after one stops the other emits every cluster-tick on', async () => {
    const transport = new MemoryTransport({ retryBackoffMs: 5, defaultPartitions: 6 });
    await transport.ensureTopics([{ topic: topics.readings, partitions: 6 }]);
    const a = await start(transport, 'kafka');
    const b = await start(transport, 'kafka');
    await sendTicks(transport, 0, 10);
    await waitFor('frames from both', async () => (await a.metrics.frames.get()).values[0]?.value > 0);
    await waitFor('frames from b', async () => (await b.metrics.frames.get()).values[0]?.value > 0);
    await services.shift()!.stop();
    await sendTicks(transport, 10, 20);
    // Lateness 62 s = 2 ticks: ticks 0..16 close with readings up to tick 19.
    await waitFor(
      'ticks 0..16 of every cluster',
      async () => new Set((await frames(transport)).map((f) => `${f.cluster}@${f.tick}`)).size === 4 * 17,
    );
    const seen = new Map<string, string>();
    for (const frame of await frames(transport)) {
      const key = `${frame.cluster}@${frame.tick}`;
      if (seen.has(key)) expect(JSON.stringify(frame)).toBe(seen.get(key));
      seen.set(key, JSON.stringify(frame));
    }
    expect(await countOf(b.metrics.rejected)).toBe(0);
  });

  it('a single-process ingest (--state file) that shares its group says so in an error', async () => {
    const transport = new MemoryTransport({ retryBackoffMs: 5 });
    await transport.ensureTopics([{ topic: topics.readings, partitions: 6 }]);
    const first = capturingLogger();
    await start(transport, 'file', first.logger);
    await start(transport, 'file');
    await waitFor('the error', () =>
      first.lines.some((line) => line.includes('another ingest process is in this consumer group')),
    );
  });
});
