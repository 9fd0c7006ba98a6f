import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import type { IncomingMessage, OutgoingMessage, TransportProducer } from '../../../common/transport.ts';
import type { Frame } from '../../../common/types.ts';
import { MemoryCheckpointStore } from '../../../ingest/checkpoint.ts';
import { NodeDirectory } from '../../../ingest/directory.ts';
import { IngestMetrics } from '../../../ingest/metrics.ts';
import { PartitionStateStore, type PartitionState } from '../../../ingest/partition-state.ts';
import { PartitionedIngestPipeline } from '../../../ingest/partitioned-pipeline.ts';
import { DLQ_HEADERS, IngestPipeline } from '../../../ingest/pipeline.ts';
import { MemoryTransport } from '../../../transport/memory.ts';
import { partitionForKey } from '../../../transport/partitioner.ts';

const T = 31_000;
const T0 = 55_000_000 * T;
const TICKS = 30;
const PARTITIONS = 6;
const config = loadConfig({ env: {} });
const logger = createLogger('test', 'silent');
const CLUSTERS = ['c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'c-6', 'c-7', 'c-8'];
const directory = new NodeDirectory({
  network: 'lab',
  version: 'v1',
  clusters: CLUSTERS.map((id, c) => ({
    id,
    nodes: [0, 1, 2].map((n) => ({ id: String(c * 10 + n), modalities: ['temperature'] })),
  })),
});

class FrameRecorder implements TransportProducer {
  sent: Array<{ topic: string; message: OutgoingMessage }> = [];
  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.sent.push(...messages.map((message) => ({ topic, message })));
  }
  async close(): Promise<void> {}
  frames(): Frame[] {
    return this.sent.filter((s) => s.topic === 'wsn.frames').map((s) => JSON.parse(String(s.message.value)) as Frame);
  }
}

/** Every node reports once a tick (node 21 skips every third tick), keyed by cluster onto its partition. */
function partitionedReadings(): IncomingMessage[][] {
  const parts: IncomingMessage[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let k = 0; k < TICKS; k++) {
    for (const cluster of directory.clusters) {
      const p = partitionForKey(cluster.id, PARTITIONS);
      for (const node of cluster.nodes) {
        if (node === '21' && k % 3 === 0) continue;
        const ts = T0 + k * T + 1_000 * Number(node.slice(-1)) + 500;
        parts[p].push({
          topic: 'wsn.readings',
          partition: p,
          offset: String(parts[p].length),
          key: cluster.id,
          value: Buffer.from(JSON.stringify({ network: 'lab', node, ts, values: { temperature: k + Number(node) } })),
          headers: {},
          timestamp: 0,
        });
      }
    }
  }
  return parts;
}

const byKey = (frames: Frame[]): Map<string, string> =>
  new Map(frames.map((frame) => [`${frame.cluster}@${frame.tick}`, JSON.stringify(frame)]));
const sources = (partitions: number[]): string[] => partitions.map((p) => `wsn.readings:${p}`);
const END = T0 + (TICKS + 3) * T + config.ingest.allowedLatenessMs;

function scaleOutPipeline(store: PartitionStateStore, producer: FrameRecorder): PartitionedIngestPipeline {
  return new PartitionedIngestPipeline({
    ingest: config.ingest,
    directory,
    producer,
    metrics: new IngestMetrics(),
    store,
    readingsPartitions: PARTITIONS,
    logger,
    now: () => END,
    saveEveryReadings: 25,
  });
}

/** The frames one single-process ingest gives for the same readings. */
async function referenceFrames(parts: IncomingMessage[][]): Promise<Map<string, string>> {
  const producer = new FrameRecorder();
  const single = new IngestPipeline({
    ingest: config.ingest,
    directory,
    producer,
    metrics: new IngestMetrics(),
    checkpoints: new MemoryCheckpointStore(),
    logger,
    now: () => END,
  });
  await single.assign(sources(parts.map((_, p) => p)));
  for (const [p, messages] of parts.entries())
    if (messages.length > 0) await single.handleBatch({ topic: 'wsn.readings', partition: p, messages });
  await single.advanceTo(END);
  return byKey(producer.frames());
}

describe('PartitionedIngestPipeline (several ingest processes in one group)', () => {
  it('two processes share the partitions; after one dies the other reads on from the saved state: every cluster-tick once, as one process makes it', async () => {
    const parts = partitionedReadings();
    expect(parts.filter((messages) => messages.length > 0).length).toBeGreaterThanOrEqual(4);
    const reference = await referenceFrames(parts);
    expect(reference.size).toBe(CLUSTERS.length * (TICKS + 3));

    const table = new MemoryTransport().table({ topic: 'wsn.ingest-state', partitions: 1 });
    const [aOut, bOut] = [new FrameRecorder(), new FrameRecorder()];
    const a = scaleOutPipeline(new PartitionStateStore(table, 'lab', 'g'), aOut);
    const b = scaleOutPipeline(new PartitionStateStore(table, 'lab', 'g'), bOut);
    await a.assign(sources([0, 2, 4]));
    await b.assign(sources([1, 3, 5]));
    const owner = (p: number): PartitionedIngestPipeline => (p % 2 === 0 ? a : b);
    /** Per partition: next offset to deliver, and the offset the group has committed. */
    const position = parts.map(() => 0);
    const committed = parts.map(() => 0);
    const deliver = async (p: number, count: number, to: PartitionedIngestPipeline): Promise<void> => {
      const messages = parts[p].slice(position[p], position[p] + count);
      if (messages.length === 0) return;
      position[p] += messages.length;
      const outcome = await to.handleBatch({ topic: 'wsn.readings', partition: p, messages });
      if (outcome.commitOffset !== null) committed[p] = Number(outcome.commitOffset);
    };
    // Half the stream, seven readings a batch, the partitions in turn.
    while (position.some((at, p) => at < parts[p].length / 2))
      for (let p = 0; p < PARTITIONS; p++) await deliver(p, 7, owner(p));
    expect(aOut.frames().length).toBeGreaterThan(0);
    expect(bOut.frames().length).toBeGreaterThan(0);

    // a dies (no last save); b is given every partition and Kafka delivers a's from their committed offsets.
    // Some of what a aligned was not in its saved state yet: b reads it again.
    expect([0, 2, 4].some((p) => committed[p] > 0 && committed[p] < position[p])).toBe(true);
    for (const p of [0, 2, 4]) position[p] = committed[p];
    await b.assign(sources([0, 1, 2, 3, 4, 5]));
    while (position.some((at, p) => at < parts[p].length)) for (let p = 0; p < PARTITIONS; p++) await deliver(p, 7, b);
    await b.advanceTo(END);

    const emitted = [...aOut.frames(), ...bOut.frames()];
    const seen = new Map<string, string>();
    for (const frame of emitted) {
      const key = `${frame.cluster}@${frame.tick}`;
      // A frame emitted again after the takeover is the same frame.
      if (seen.has(key)) expect(JSON.stringify(frame), key).toBe(seen.get(key));
      seen.set(key, JSON.stringify(frame));
    }
    expect([...seen.keys()].sort()).toEqual([...reference.keys()].sort());
    for (const [key, frame] of reference) expect(seen.get(key), key).toBe(frame);
    // Each process emitted only its own partitions' clusters before the takeover.
    const clustersOf = (frames: Frame[]): Set<string> => new Set(frames.map((frame) => frame.cluster));
    for (const cluster of clustersOf(aOut.frames())) expect(partitionForKey(cluster, PARTITIONS) % 2).toBe(0);
  });

  it('moves a partition that went quiet up to the event time of the others, so its clusters’ frames go on', async () => {
    const parts = partitionedReadings();
    const [busy, quiet] = parts.map((messages, p) => ({ messages, p })).filter(({ messages }) => messages.length > 0);
    const table = new MemoryTransport().table({ topic: 'wsn.ingest-state', partitions: 1 });
    const out = new FrameRecorder();
    const pipeline = scaleOutPipeline(new PartitionStateStore(table, 'lab', 'g'), out);
    await pipeline.assign(sources([busy.p, quiet.p]));
    const quietClusters = new Set(
      directory.clusters.filter((c) => partitionForKey(c.id, PARTITIONS) === quiet.p).map((c) => c.id),
    );
    const lastTickOf = (cluster: string): number =>
      Math.max(
        ...out
          .frames()
          .filter((frame) => frame.cluster === cluster)
          .map((frame) => frame.tick),
      );
    // The quiet partition delivers its first 5 ticks, the busy one all 30.
    const firstTicks = quiet.messages.filter((m) => (JSON.parse(String(m.value)) as { ts: number }).ts < T0 + 5 * T);
    await pipeline.handleBatch({ topic: 'wsn.readings', partition: quiet.p, messages: firstTicks });
    await pipeline.handleBatch({ topic: 'wsn.readings', partition: busy.p, messages: busy.messages });
    const quietCluster = [...quietClusters][0];
    // Ticks up to 4 less the lateness (2 ticks): the last emitted is tick 1.
    expect(lastTickOf(quietCluster)).toBe(T0 + T);
    // Not yet idle: nothing moves.
    const now = Date.now();
    expect(await pipeline.markIdle(now, 60_000)).toBe(0);
    // Idle (no batch for the idle time): moved to the event time the busy one had at the previous call.
    expect(await pipeline.markIdle(now + 60_000, 60_000)).toBeGreaterThan(0);
    expect(lastTickOf(quietCluster)).toBe(
      lastTickOf(
        [...directory.clusters].find((c) => !quietClusters.has(c.id) && partitionForKey(c.id, PARTITIONS) === busy.p)!
          .id,
      ),
    );
    const latest = out
      .frames()
      .filter((frame) => frame.cluster === quietCluster)
      .at(-1)!;
    expect(latest.nodes.every((node) => node.staleTicks > 0)).toBe(true);
  });

  it('saves a partition state larger than one record in pieces, loads it whole, and deletes the pieces of the previous save', async () => {
    const table = new MemoryTransport().table({ topic: 'wsn.ingest-state', partitions: 1 });
    const store = new PartitionStateStore(table, 'lab', 'g');
    const nodes: Record<string, { last: Record<string, { ts: number; value: number }>; lastTs: number }> = {};
    for (let i = 0; i < 8_000; i++)
      nodes[`n${i}`] = { last: { temperature: { ts: T0 + i, value: i / 7 } }, lastTs: T0 + i };
    const state = (offset: string): PartitionState => ({
      format: 1,
      network: 'lab',
      source: 'wsn.readings:3',
      offset,
      aligner: { format: 1, nextTick: T0, emitted: true, firstTick: T0, maxEventTs: T0, sources: {}, nodes, open: {} },
    });
    await store.save(state('10'));
    const firstKeys = [...(await table.readToEnd()).keys()];
    expect(firstKeys.length).toBeGreaterThan(2);
    await store.save(state('20'));
    const stored = await table.readToEnd();
    // The head and the new pieces only: the first save's pieces are gone.
    expect([...stored.keys()].filter((key) => firstKeys.includes(key))).toEqual([store.key('wsn.readings:3')]);
    const loaded = await new PartitionStateStore(table, 'lab', 'g').load(['wsn.readings:3', 'wsn.readings:4']);
    expect([...loaded.keys()]).toEqual(['wsn.readings:3']);
    expect(loaded.get('wsn.readings:3')).toEqual(state('20'));
    // Another group's state is its own.
    expect((await new PartitionStateStore(table, 'lab', 'other').load(['wsn.readings:3'])).size).toBe(0);
  });

  it('sends a reading keyed onto another cluster’s partition to the DLQ as wrong_partition', async () => {
    const table = new MemoryTransport().table({ topic: 'wsn.ingest-state', partitions: 1 });
    const out = new FrameRecorder();
    const pipeline = scaleOutPipeline(new PartitionStateStore(table, 'lab', 'g'), out);
    const home = partitionForKey('c-1', PARTITIONS);
    const elsewhere = (home + 1) % PARTITIONS;
    await pipeline.assign(sources([elsewhere]));
    const outcome = await pipeline.handleBatch({
      topic: 'wsn.readings',
      partition: elsewhere,
      messages: [
        {
          topic: 'wsn.readings',
          partition: elsewhere,
          offset: '0',
          key: '0',
          value: Buffer.from(JSON.stringify({ network: 'lab', node: '0', ts: T0, values: { temperature: 1 } })),
          headers: {},
          timestamp: 0,
        },
      ],
    });
    expect(outcome).toMatchObject({ accepted: 0, rejected: 1 });
    const dlq = out.sent.filter((s) => s.topic === 'wsn.readings.dlq');
    expect(dlq).toHaveLength(1);
    expect(dlq[0].message.headers?.[DLQ_HEADERS.code]).toBe('wrong_partition');
    expect(dlq[0].message.headers?.[DLQ_HEADERS.error]).toContain(
      `cluster c-1, whose readings belong on partition ${home}`,
    );
  });
});
