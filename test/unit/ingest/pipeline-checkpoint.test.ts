import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import type { IncomingBatch, IncomingMessage, OutgoingMessage, TransportProducer } from '../../../common/transport.ts';
import type { Frame } from '../../../common/types.ts';
import { FileCheckpointStore, MemoryCheckpointStore, type CheckpointStore } from '../../../ingest/checkpoint.ts';
import { NodeDirectory } from '../../../ingest/directory.ts';
import { IngestMetrics } from '../../../ingest/metrics.ts';
import { IngestPipeline } from '../../../ingest/pipeline.ts';

const T = 31_000;
const T0 = 55_000_000 * T;
const config = loadConfig({ env: {} });
const NODES = Array.from({ length: 8 }, (_, i) => String(i + 1));
const directory = new NodeDirectory({
  network: 'lab',
  version: 'v1',
  clusters: [
    { id: 'a', nodes: NODES.slice(0, 4).map((id) => ({ id, modalities: ['temperature'] })) },
    { id: 'b', nodes: NODES.slice(4).map((id) => ({ id, modalities: ['temperature'] })) },
  ],
});
const logger = createLogger('test', 'silent');

class FrameRecorder implements TransportProducer {
  frames: string[] = [];
  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (topic === 'wsn.frames') this.frames.push(...messages.map((m) => String(m.value)));
  }
  async close(): Promise<void> {}
}

/** Counts full snapshots written, to show they are rare. */
class CountingStore extends MemoryCheckpointStore {
  saves = 0;
  override save(serialized: string): void {
    this.saves++;
    super.save(serialized);
  }
}

/** 40 ticks of readings of 8 nodes over 2 partitions, in batches of 5 messages per partition in turn. */
function batches(): IncomingBatch[] {
  const parts: IncomingMessage[][] = [[], []];
  for (let k = 0; k < 40; k++) {
    for (const [i, node] of NODES.entries()) {
      if ((k * 7 + i) % 9 === 0) continue; // some readings missing
      const p = i % 2;
      const value = JSON.stringify({
        network: 'lab',
        node,
        ts: T0 + k * T + 1_000 * i,
        values: { temperature: 20 + ((k * 13 + i * 5) % 17) },
      });
      parts[p].push({
        topic: 'wsn.readings',
        partition: p,
        offset: String(parts[p].length),
        key: node,
        value: Buffer.from(value),
        headers: {},
        timestamp: 0,
      });
    }
  }
  const out: IncomingBatch[] = [];
  for (let offset = 0; offset < Math.max(...parts.map((p) => p.length)); offset += 5) {
    for (const [p, messages] of parts.entries()) {
      const slice = messages.slice(offset, offset + 5);
      if (slice.length > 0) out.push({ topic: 'wsn.readings', partition: p, messages: slice });
    }
  }
  return out;
}

const pipeline = (producer: TransportProducer, checkpoints: CheckpointStore, snapshotEveryReadings?: number) =>
  new IngestPipeline({
    ingest: config.ingest,
    directory,
    producer,
    metrics: new IngestMetrics(),
    checkpoints,
    logger,
    now: () => T0 + 1_000 * T,
    snapshotEveryReadings,
  });

async function uninterrupted(): Promise<string[]> {
  const producer = new FrameRecorder();
  const p = pipeline(producer, new MemoryCheckpointStore());
  await p.assign(['wsn.readings:0', 'wsn.readings:1']);
  for (const b of batches()) await p.handleBatch(b);
  return producer.frames;
}

/**
 * Runs the batches with a crash after `crashAfter` of them; the restarted
 * pipeline gets everything again from `redeliverFrom` (the transport's
 * committed offset: anywhere at or before what was journalled).
 */
async function withCrash(
  store: CheckpointStore,
  crashAfter: number,
  redeliverFrom: number,
  snapshotEveryReadings?: number,
): Promise<string[]> {
  const all = batches();
  const producer = new FrameRecorder();
  const first = pipeline(producer, store, snapshotEveryReadings);
  await first.assign(['wsn.readings:0', 'wsn.readings:1']);
  for (const b of all.slice(0, crashAfter)) await first.handleBatch(b);
  const second = pipeline(producer, store, snapshotEveryReadings);
  for (const b of all.slice(redeliverFrom)) await second.handleBatch(b);
  return producer.frames;
}

/** Frames per cluster and tick, each once, checking repeats are identical. */
function distinct(frames: string[]): string[] {
  const byKey = new Map<string, string>();
  for (const raw of frames) {
    const f = JSON.parse(raw) as Frame;
    const key = `${f.cluster}@${f.tick}`;
    const previous = byKey.get(key);
    if (previous !== undefined) expect(raw, `repeated frame ${key} differs`).toBe(previous);
    byKey.set(key, raw);
  }
  return [...byKey.values()];
}

describe('ingest checkpoint: snapshot plus journal', () => {
  it('writes a full snapshot only every snapshotEveryReadings readings, not after every batch', async () => {
    const store = new CountingStore();
    const p = pipeline(new FrameRecorder(), store, 100);
    await p.assign(['wsn.readings:0', 'wsn.readings:1']);
    const all = batches();
    for (const b of all) await p.handleBatch(b);
    const readings = all.reduce((n, b) => n + b.messages.length, 0);
    // one snapshot at start, then one per 100 readings
    expect(store.saves).toBe(1 + Math.floor(readings / 100));
    expect(all.length).toBeGreaterThan(3 * store.saves);
    expect(store.journalLength).toBeGreaterThan(0);
  });

  it('after a crash, snapshot + journal replayed give exactly the frames of an uninterrupted run (journal only, and across snapshots)', async () => {
    const expected = await uninterrupted();
    expect(expected.length).toBe(2 * 37); // ticks 0..36 are behind the watermark (lateness 2 ticks)
    for (const every of [1_000_000, 60]) {
      for (const crashAfter of [3, 17, 30]) {
        // redelivery from the committed offset (everything processed), or from earlier (skipped as already in the state)
        for (const redeliverFrom of [crashAfter, crashAfter - 3]) {
          const frames = await withCrash(new MemoryCheckpointStore(), crashAfter, redeliverFrom, every);
          expect(
            distinct(frames),
            `snapshot every ${every}, crash after ${crashAfter}, redelivered from ${redeliverFrom}`,
          ).toEqual(expected);
        }
      }
    }
  });

  it('a file store keeps working after a crash while appending (cut last line) and ignores journal lines of an older snapshot', async () => {
    const expected = await uninterrupted();
    const dir = mkdtempSync(join(tmpdir(), 'wsn-ingest-journal-'));
    const store = new FileCheckpointStore(dir, 'lab', 'g');
    const all = batches();
    const producer = new FrameRecorder();
    const first = pipeline(producer, store, 70);
    await first.assign(['wsn.readings:0', 'wsn.readings:1']);
    for (const b of all.slice(0, 20)) await first.handleBatch(b);
    const generation = (JSON.parse(readFileSync(store.file, 'utf8')) as { generation: number }).generation;
    expect(generation).toBeGreaterThan(1);
    // a stale line of the previous generation (crash between snapshot and emptying the journal) and a torn last line
    const journal = readFileSync(store.journalFile, 'utf8');
    writeFileSync(
      store.journalFile,
      `${JSON.stringify({ g: generation - 1, offsets: { 'wsn.readings:0': '999' }, ops: [] })}\n${journal}`,
    );
    appendFileSync(store.journalFile, '{"g":');
    const second = pipeline(producer, store, 70);
    for (const b of all.slice(20)) await second.handleBatch(b);
    expect(distinct(producer.frames)).toEqual(expected);
  });

  it('a graceful checkpoint() leaves nothing to replay', async () => {
    const store = new MemoryCheckpointStore();
    const p = pipeline(new FrameRecorder(), store);
    await p.assign(['wsn.readings:0', 'wsn.readings:1']);
    for (const b of batches().slice(0, 10)) await p.handleBatch(b);
    expect(store.load()?.journal.length).toBeGreaterThan(0);
    await p.checkpoint();
    expect(store.load()?.journal).toEqual([]);
  });
});
