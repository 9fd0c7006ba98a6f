/**
 * Benchmark of the ingest pipeline without a broker: the IBRL readings of
 * epochs 14285–16000 (54,641 readings, 52 motes), spread over 6 partitions
 * with the Kafka partitioner, fed in batches of 600 per partition in turn
 * (like a consumer that fetches 64 KiB per partition) through decode,
 * validation, alignment, frame building and a checkpoint per batch, to a
 * producer that drops the messages. Prints readings per second of wall and
 * CPU time, for an in-memory and a file checkpoint.
 *
 *   node --import tsx bench/ingest.ts
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../common/config.ts';
import { createLogger } from '../common/log.ts';
import type { IncomingMessage, TransportProducer } from '../common/transport.ts';
import { FileCheckpointStore, MemoryCheckpointStore, type CheckpointStore } from '../ingest/checkpoint.ts';
import { NodeDirectory } from '../ingest/directory.ts';
import { streamIbrl } from '../sources/ibrl-reader.ts';
import { IngestMetrics } from '../ingest/metrics.ts';
import { IngestPipeline } from '../ingest/pipeline.ts';
import { layoutFromFile } from '../ingest/topology-source.ts';
import { partitionForKey } from '../transport/partitioner.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ibrl = resolve(repoRoot, '../shared/data/ibrl');
const PARTITIONS = 6;
const BATCH = 600;

const config = loadConfig({ env: {} });
const directory = new NodeDirectory(layoutFromFile(config.network, join(ibrl, 'node.txt')));
const parts: IncomingMessage[][] = Array.from({ length: PARTITIONS }, () => []);
for await (const r of streamIbrl(ibrl, { toEpoch: 16_000 })) {
  const p = partitionForKey(r.mote, PARTITIONS);
  parts[p].push({ topic: 'wsn.readings', partition: p, offset: String(parts[p].length), key: r.mote, value: Buffer.from(JSON.stringify({ node: r.mote, ts: r.ts, values: r.values })), headers: {}, timestamp: 0 });
}
const total = parts.reduce((n, p) => n + p.length, 0);

async function run(name: string, checkpoints: CheckpointStore): Promise<void> {
  let frames = 0;
  const producer: TransportProducer = {
    send: async (topic, messages) => void (topic === 'wsn.frames' && (frames += messages.length)),
    close: async () => undefined,
  };
  const pipeline = new IngestPipeline({ ingest: config.ingest, directory, producer, metrics: new IngestMetrics(), checkpoints, logger: createLogger('bench', 'silent') });
  await pipeline.assign(parts.map((_, i) => `wsn.readings:${i}`));
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let offset = 0; parts.some((p) => p.length > offset); offset += BATCH) {
    for (let i = 0; i < PARTITIONS; i++) {
      const messages = parts[i].slice(offset, offset + BATCH);
      if (messages.length > 0) await pipeline.handleBatch({ topic: 'wsn.readings', partition: i, messages });
    }
  }
  const wallS = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuS = (used.user + used.system) / 1e6;
  console.log(`| ${name} | ${total} | ${frames} | ${wallS.toFixed(2)} | ${cpuS.toFixed(2)} | ${Math.round(total / wallS)} | ${Math.round(total / cpuS)} |`);
}

console.log('| checkpoint | readings | frames | wall s | CPU s | readings/s (wall) | readings/s (CPU) |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
await run('memory', new MemoryCheckpointStore());
await run('file', new FileCheckpointStore(mkdtempSync(join(tmpdir(), 'wsn-bench-')), config.network, 'bench'));
