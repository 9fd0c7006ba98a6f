import { describe, it, expect } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import type { IncomingBatch, IncomingMessage, OutgoingMessage, TransportProducer } from '../../../common/transport.ts';
import type { Frame } from '../../../common/types.ts';
import { MemoryCheckpointStore } from '../../../ingest/checkpoint.ts';
import { IngestMetrics } from '../../../ingest/metrics.ts';
import { DLQ_HEADERS, FIRST_ARRIVAL_HEADER, IngestPipeline } from '../../../ingest/pipeline.ts';
import { directoryOf, startInProcessIngest } from '../../support/ingest.ts';
import { waitFor } from '../../support/wait.ts';

const T = 31_000;
const T0 = 55_000_000 * T;
const config = loadConfig({ env: { WSN_PARTITION_IDLE_MS: '200' } });
const directory = directoryOf('lab', 'v1', [['c1', ['1', '2'], ['temperature']]]);
const logger = createLogger('test', 'silent');

class RecordingProducer implements TransportProducer {
  sent: Array<{ topic: string; message: OutgoingMessage }> = [];
  failNext = 0;
  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('broker unavailable');
    }
    this.sent.push(...messages.map((message) => ({ topic, message })));
  }
  async close(): Promise<void> {}
  frames(): Frame[] {
    return this.sent.filter((s) => s.topic === 'wsn.frames').map((s) => JSON.parse(String(s.message.value)) as Frame);
  }
}

let offset = 0;
const msg = (value: string, key = '1'): IncomingMessage => ({
  topic: 'wsn.readings',
  partition: 0,
  offset: String(offset++),
  key,
  value: Buffer.from(value),
  headers: { origin: 'gw-1' },
  timestamp: 42,
});
const reading = (node: string, ts: number, temperature: number) =>
  msg(JSON.stringify({ network: 'lab', node, ts, values: { temperature } }), node);
const batch = (messages: IncomingMessage[]): IncomingBatch => ({ topic: 'wsn.readings', partition: 0, messages });

function pipeline(
  producer: RecordingProducer,
  checkpoints = new MemoryCheckpointStore(),
  metrics = new IngestMetrics(),
) {
  return new IngestPipeline({
    ingest: config.ingest,
    directory,
    producer,
    metrics,
    checkpoints,
    logger,
    now: () => T0 + 1_000 * T,
  });
}

describe('IngestPipeline', () => {
  it('sends a rejected message to the DLQ with its original key, bytes and headers, plus the reason and source', async () => {
    const producer = new RecordingProducer();
    const metrics = new IngestMetrics();
    const bad = msg('{"node":"1","ts":"yesterday","values":{"temperature":1}}', 'gw-key');
    await pipeline(producer, undefined, metrics).handleBatch(batch([bad]));
    expect(producer.sent).toHaveLength(1);
    const { topic, message } = producer.sent[0];
    expect(topic).toBe('wsn.readings.dlq');
    expect(message.key).toBe('gw-key');
    expect(Buffer.compare(message.value as Buffer, bad.value)).toBe(0);
    expect(message.headers).toMatchObject({
      origin: 'gw-1',
      [DLQ_HEADERS.code]: 'bad_timestamp',
      [DLQ_HEADERS.topic]: 'wsn.readings',
      [DLQ_HEADERS.partition]: '0',
      [DLQ_HEADERS.offset]: bad.offset,
    });
    expect(message.headers?.[DLQ_HEADERS.error]).toMatch(/"yesterday" is not an ISO 8601 time/);
    expect((await metrics.rejected.get()).values.find((v) => v.labels.reason === 'bad_timestamp')?.value).toBe(1);
  });

  it('publishes frames keyed by cluster and counts accepted readings and late ones', async () => {
    const producer = new RecordingProducer();
    const metrics = new IngestMetrics();
    const p = pipeline(producer, undefined, metrics);
    await p.handleBatch(batch([reading('1', T0 + 10, 20), reading('2', T0 + 20, 21), reading('1', T0 + 4 * T, 22)]));
    await p.handleBatch(batch([reading('2', T0 + 30, 99)]));
    const frames = producer.sent.filter((s) => s.topic === 'wsn.frames');
    expect(frames.map((f) => [f.message.key, f.message.headers?.['x-wsn-tick']])).toEqual([
      ['c1', String(T0)],
      ['c1', String(T0 + T)],
    ]);
    expect(producer.frames()[0].nodes.map((n) => n.values.temperature)).toEqual([20, 21]);
    const late = producer.sent.find((s) => s.topic === 'wsn.readings.dlq');
    expect(late?.message.headers?.[DLQ_HEADERS.code]).toBe('late');
    expect(late?.message.headers?.[DLQ_HEADERS.error]).toMatch(/already emitted/);
    expect((await metrics.accepted.get()).values[0].value).toBe(3);
  });

  it('rolls back when publishing fails, so the redelivered batch yields the same frames', async () => {
    const clean = new RecordingProducer();
    const readings = [reading('1', T0 + 10, 1), reading('2', T0 + 20, 2), reading('1', T0 + 5 * T, 3)];
    await pipeline(clean).handleBatch(batch(readings));

    const flaky = new RecordingProducer();
    const p = pipeline(flaky);
    flaky.failNext = 1;
    await expect(p.handleBatch(batch(readings))).rejects.toThrow('broker unavailable');
    await p.handleBatch(batch(readings));
    expect(flaky.frames()).toEqual(clean.frames());
    expect(flaky.frames().length).toBe(3); // watermark T0+5T−2T: ticks T0, T0+T, T0+2T
  });

  it('after a restart from its checkpoint, skips what the checkpoint holds and emits the same frames', async () => {
    const first = [reading('1', T0 + 10, 1), reading('2', T0 + 20, 2)];
    const second = [reading('1', T0 + T + 5, 3), reading('2', T0 + 4 * T, 4), reading('1', T0 + 6 * T, 5)];
    const once = new RecordingProducer();
    const p1 = pipeline(once);
    await p1.handleBatch(batch(first));
    await p1.handleBatch(batch(second));

    const checkpoints = new MemoryCheckpointStore();
    const before = new RecordingProducer();
    await pipeline(before, checkpoints).handleBatch(batch(first));
    // crash; the transport redelivers from its committed offset (here: everything again)
    const after = new RecordingProducer();
    const outcome = await pipeline(after, checkpoints).handleBatch(batch([...first, ...second]));
    expect(outcome.skipped).toBe(2);
    expect([...before.frames(), ...after.frames()]).toEqual(once.frames());
  });
});

describe('frame headers', () => {
  it('say when the first reading of the tick arrived (the detector measures arrival → score from it)', async () => {
    const producer = new RecordingProducer();
    const p = pipeline(producer);
    const before = Date.now();
    await p.handleBatch(batch([reading('1', T0 + 10, 20), reading('2', T0 + 20, 21)]));
    await new Promise((r) => setTimeout(r, 20));
    const between = Date.now();
    await p.handleBatch(batch([reading('1', T0 + T + 10, 22), reading('1', T0 + 4 * T, 23)]));
    const frames = producer.sent.filter((s) => s.topic === 'wsn.frames');
    expect(frames.map((f) => Number(f.message.headers?.['x-wsn-tick']))).toEqual([T0, T0 + T]);
    const [first, second] = frames.map((f) => Number(f.message.headers?.[FIRST_ARRIVAL_HEADER]));
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThan(between);
    expect(second).toBeGreaterThanOrEqual(between);
  });
});

describe('idle partitions', () => {
  it('moves a quiet, caught-up partition forward, but never one whose last batch lagged behind its end', async () => {
    const producer = new RecordingProducer();
    const p = pipeline(producer);
    await p.assign(['wsn.readings:0', 'wsn.readings:1'], 0);
    const on = (partition: number, messages: IncomingMessage[], highWatermark: string): IncomingBatch => ({
      topic: 'wsn.readings',
      partition,
      messages: messages.map((m) => ({ ...m, partition })),
      highWatermark,
    });
    // partition 1 lags: its batch ended at offset 0 of 100
    const lag = reading('2', T0 + 10, 1);
    await p.handleBatch(on(1, [{ ...lag, offset: '0' }], '100'));
    await p.handleBatch(on(0, [reading('1', T0 + 20, 2), reading('1', T0 + 10 * T, 3)], String(offset)));
    const base = Date.now(); // batches note the wall-clock time they arrived
    await p.markIdle(base + 60_000, 1_000); // samples the max event time
    expect(await p.markIdle(base + 120_000, 1_000)).toBe(0);
    expect(producer.frames()).toEqual([]);
    // once partition 1 has caught up and then stays quiet, it no longer holds the watermark
    await p.handleBatch(on(1, [{ ...reading('2', T0 + 40, 4), offset: '1' }], '2'));
    const released = (await p.markIdle(Date.now() + 180_000, 1_000)) + (await p.markIdle(Date.now() + 240_000, 1_000));
    expect(released).toBeGreaterThan(0);
    expect(producer.frames()[0].tick).toBe(T0);
  });
});

describe('readings of other networks', () => {
  it('are passed over and counted, not sent to the DLQ (networks may share the topic)', async () => {
    const producer = new RecordingProducer();
    const metrics = new IngestMetrics();
    const outcome = await pipeline(producer, undefined, metrics).handleBatch(
      batch([msg(JSON.stringify({ network: 'elsewhere', node: '1', ts: T0, values: { temperature: 1 } }))]),
    );
    expect(outcome).toMatchObject({ otherNetwork: 1, rejected: 0, accepted: 0 });
    expect(producer.sent).toEqual([]);
    expect((await metrics.otherNetwork.get()).values[0].value).toBe(1);
  });
});

describe('ingest service on the in-process transport', () => {
  it('consumes wsn.readings in its group and publishes frames and DLQ messages', async () => {
    const { transport, service } = await startInProcessIngest({
      config,
      directory,
      logger,
      http: false,
    });
    const producer = await transport.producer();
    await producer.send('wsn.readings', [
      { key: '1', value: JSON.stringify({ node: '1', ts: T0 + 1, values: { temperature: 7 } }) },
      { key: '2', value: `wsn,node=2 temperature=8 ${(T0 + 2) * 1e6}` },
      { key: '3', value: 'garbage' },
      { key: '1', value: JSON.stringify({ node: '1', ts: T0 + 4 * T, values: { temperature: 9 } }) },
    ]);
    const got: { frames: Frame[]; dlq: string[] } = { frames: [], dlq: [] };
    const sub = await transport.subscribe({
      groupId: 'reader',
      topics: ['wsn.frames', 'wsn.readings.dlq'],
      fromBeginning: true,
      onBatch: async (b) => {
        for (const m of b.messages) {
          if (b.topic === 'wsn.frames') got.frames.push(JSON.parse(m.value.toString()) as Frame);
          else got.dlq.push(`${m.headers[DLQ_HEADERS.code]}:${m.value.toString()}`);
        }
      },
    });
    try {
      await waitFor('2 frames and 1 DLQ message', () => got.frames.length >= 2 && got.dlq.length >= 1, 5_000, 10);
    } finally {
      await sub.close();
      await service.stop();
      await transport.close();
    }
    expect(got.dlq).toEqual(['malformed:garbage']);
    expect(got.frames[0]).toMatchObject({
      network: 'lab',
      cluster: 'c1',
      tick: T0,
      nodes: [
        { node: '1', values: { temperature: 7 } },
        { node: '2', values: { temperature: 8 } },
      ],
    });
  });
});
