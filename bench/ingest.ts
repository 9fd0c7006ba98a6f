/**
 * Benchmark of the ingest pipeline without a broker: decode, validation,
 * alignment, frame building and checkpointing, to a producer that drops the
 * messages. Readings are spread over 6 partitions with the Kafka partitioner
 * and fed in batches of up to `--fetch-bytes` per partition in turn (like a
 * consumer fetching that much per partition).
 *
 * Two inputs:
 * - default: the IBRL readings of epochs 14285–16000 (54,641 readings, 52 motes);
 * - `--nodes N`: a simulated network of N nodes (sources/simulate.ts, 4
 *   modalities, 3 % loss) for `--ticks` rounds, in clusters of 64 nodes.
 *
 * Prints one markdown row: readings, frames, wall and CPU time, CPU ms per
 * 1,000 readings, readings/s, and peak RSS (with the RSS the generated input
 * alone took, measured before the pipeline started).
 *
 *   node --import tsx bench/ingest.ts                         # IBRL
 *   node --import tsx bench/ingest.ts --nodes 100000 --ticks 6
 *   node --import tsx bench/ingest.ts --nodes 1000 --checkpoint memory --fetch-bytes 65536
 *   node --import tsx bench/ingest.ts --nodes 1000 --checkpoint table   # --state kafka: keyed by cluster, state per partition on a (memory) table
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.ts';
import { createLogger } from '../common/log.ts';
import type { IncomingMessage, TransportProducer } from '../common/transport.ts';
import { FileCheckpointStore, MemoryCheckpointStore, type CheckpointStore } from '../ingest/checkpoint.ts';
import { NodeDirectory } from '../ingest/directory.ts';
import { streamIbrl } from '../sources/ibrl-reader.ts';
import { Simulation, SIMULATED_MODALITIES } from '../sources/simulate.ts';
import { IngestMetrics } from '../ingest/metrics.ts';
import { IngestPipeline } from '../ingest/pipeline.ts';
import { PartitionStateStore } from '../ingest/partition-state.ts';
import { PartitionedIngestPipeline } from '../ingest/partitioned-pipeline.ts';
import { MemoryTransport } from '../transport/memory.ts';
import { layoutFromFile } from '../ingest/topology-source.ts';
import { partitionForKey } from '../transport/partitioner.ts';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string' },
    ticks: { type: 'string' },
    'fetch-bytes': { type: 'string', default: String(1024 * 1024) },
    checkpoint: { type: 'string', default: 'file' },
    header: { type: 'boolean', default: false },
  },
});

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ibrl = resolve(repoRoot, '../shared/data/ibrl');
const PARTITIONS = 6;
const CLUSTER_SIZE = 64;
const fetchBytes = Number(args['fetch-bytes']);
if (!(fetchBytes >= 1024)) throw new Error(`--fetch-bytes must be at least 1024, got ${args['fetch-bytes']}`);
if (!['file', 'memory', 'table'].includes(args.checkpoint))
  throw new Error(`--checkpoint is file, memory or table, got ${args.checkpoint}`);
/** Scale-out (ingest --state kafka): readings keyed by cluster, one aligner and one saved state per partition. */
const byCluster = args.checkpoint === 'table';

const config = loadConfig({ env: {} });
const parts: IncomingMessage[][] = Array.from({ length: PARTITIONS }, () => []);
let lastEventTs = 0;
const push = (node: string, ts: number, values: Record<string, number>, network?: string): void => {
  lastEventTs = Math.max(lastEventTs, ts);
  const p = partitionForKey(byCluster ? (directory.clusterOf(node) ?? node) : node, PARTITIONS);
  const value = Buffer.from(JSON.stringify(network ? { network, node, ts, values } : { node, ts, values }));
  parts[p].push({
    topic: 'wsn.readings',
    partition: p,
    offset: String(parts[p].length),
    key: node,
    value,
    headers: {},
    timestamp: 0,
  });
};

let directory: NodeDirectory;
let input: string;
if (args.nodes === undefined) {
  input = 'IBRL 52 motes';
  directory = new NodeDirectory(layoutFromFile(config.network, join(ibrl, 'node.txt')));
  for await (const r of streamIbrl(ibrl, { toEpoch: 16_000 })) push(r.mote, r.ts, r.values);
} else {
  const nodes = Number(args.nodes);
  const ticks = Number(args.ticks ?? Math.max(4, Math.ceil(200_000 / nodes)));
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error(`--nodes must be a positive integer, got ${args.nodes}`);
  input = `simulated ${nodes} nodes × ${ticks} ticks`;
  const simulation = new Simulation({
    nodes,
    seed: 3,
    network: config.network,
    tickMs: config.ingest.tickMs,
    startTs: 56_000_000 * config.ingest.tickMs,
  });
  const clusters = [];
  for (let i = 0; i < nodes; i += CLUSTER_SIZE) {
    clusters.push({
      id: `c${String(i / CLUSTER_SIZE).padStart(5, '0')}`,
      nodes: simulation.nodes
        .slice(i, i + CLUSTER_SIZE)
        .map((n) => ({ id: n.id, modalities: [...SIMULATED_MODALITIES] })),
    });
  }
  directory = new NodeDirectory({ network: config.network, version: `bench-${nodes}`, clusters });
  for (let k = 0; k < ticks; k++) {
    for (const r of simulation.round(k).sort((a, b) => a.ts - b.ts)) push(r.node, r.ts, r.values, r.network);
    process.stderr.write(`bench ingest: generated round ${k + 1}/${ticks}\n`);
  }
}
const total = parts.reduce((n, p) => n + p.length, 0);

/** Consecutive messages of one partition up to fetchBytes (at least one), like one fetch. */
function nextBatch(messages: IncomingMessage[], from: number): IncomingMessage[] {
  let bytes = 0;
  let end = from;
  while (end < messages.length && (end === from || bytes + messages[end].value.length <= fetchBytes))
    bytes += messages[end++].value.length;
  return messages.slice(from, end);
}

let frames = 0;
const producer: TransportProducer = {
  send: async (topic, messages) => void (topic === 'wsn.frames' && (frames += messages.length)),
  close: async () => undefined,
};
const stateDir = mkdtempSync(join(tmpdir(), 'wsn-bench-'));
const checkpoints: CheckpointStore =
  args.checkpoint === 'file' ? new FileCheckpointStore(stateDir, config.network, 'bench') : new MemoryCheckpointStore();
global.gc?.();
const inputRssMb = process.memoryUsage().rss / 2 ** 20;
const cpu = process.cpuUsage();
const started = performance.now();
const pipeline = byCluster
  ? new PartitionedIngestPipeline({
      ingest: config.ingest,
      directory,
      producer,
      metrics: new IngestMetrics(),
      store: new PartitionStateStore(
        new MemoryTransport().table({ topic: 'wsn.ingest-state', partitions: 1 }),
        config.network,
        'bench',
      ),
      readingsPartitions: PARTITIONS,
      logger: createLogger('bench', 'silent'),
    })
  : new IngestPipeline({
      ingest: config.ingest,
      directory,
      producer,
      metrics: new IngestMetrics(),
      checkpoints,
      logger: createLogger('bench', 'silent'),
    });
await pipeline.assign(parts.map((_, i) => `wsn.readings:${i}`));
const positions = parts.map(() => 0);
let done = 0;
let batches = 0;
let lastProgress = performance.now();
while (positions.some((at, i) => at < parts[i].length)) {
  for (let i = 0; i < PARTITIONS; i++) {
    if (positions[i] >= parts[i].length) continue;
    const messages = nextBatch(parts[i], positions[i]);
    positions[i] += messages.length;
    await pipeline.handleBatch({ topic: 'wsn.readings', partition: i, messages });
    done += messages.length;
    batches++;
  }
  if (performance.now() - lastProgress > 5_000) {
    lastProgress = performance.now();
    process.stderr.write(
      `bench ingest: ${done}/${total} readings, ${frames} frames, ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
    );
  }
}
// The end of the stream: event time moves past the last tick plus the allowed lateness (as for a live
// network gone quiet), so every tick is emitted and frame building counts fully at every size.
await pipeline.advanceTo(lastEventTs + config.ingest.allowedLatenessMs + config.ingest.tickMs);
await pipeline.checkpoint();
const wallS = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
const cpuS = (used.user + used.system) / 1e6;
const peakRssMb = process.resourceUsage().maxRSS / 1024;
rmSync(stateDir, { recursive: true, force: true });

if (args.header) {
  console.log(
    '| input | checkpoint | fetch KiB | readings | batches | frames | wall s | CPU s | CPU ms / 1,000 readings | readings/s (wall) | peak RSS MB (input alone) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
}
console.log(
  `| ${input} | ${args.checkpoint} | ${fetchBytes / 1024} | ${total} | ${batches} | ${frames} | ${wallS.toFixed(2)} | ${cpuS.toFixed(2)} | ${((cpuS * 1e6) / total).toFixed(1)} | ${Math.round(total / wallS)} | ${Math.round(peakRssMb)} (${Math.round(inputRssMb)}) |`,
);
