import { describe, it, expect } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import type { OutgoingMessage } from '../../../common/transport.ts';
import type { Frame } from '../../../common/types.ts';
import { DLQ_HEADERS } from '../../../ingest/pipeline.ts';
import type { RejectionCode } from '../../../ingest/rejection.ts';
import { directoryOf } from '../../support/ingest.ts';
import { useIngestOnKafka } from '../../support/kafka.ts';
import { countOf } from '../../support/metrics.ts';
import { waitFor } from '../../support/wait.ts';

const T = 31_000;
const T0 = Math.floor(Date.UTC(2025, 0, 1) / T) * T;
const TICKS = 30;
const config = loadConfig({
  env: { ...process.env, WSN_NETWORK: 'itest', WSN_PARTITION_IDLE_MS: '5000', WSN_MAX_MESSAGE_BYTES: '2048' },
});
const nodes = Array.from({ length: 10 }, (_, i) => String(i + 1));
const directory = directoryOf('itest', 'itest-v1', [
  ['north', nodes.slice(0, 5), ['temperature', 'humidity']],
  ['south', nodes.slice(5), ['temperature', 'humidity']],
]);
const clusterOf = (node: string): string => (Number(node) <= 5 ? 'north' : 'south');

/** The 10 kinds of bad message used in turn, with the reason each must get. */
const BAD: Array<{ code: RejectionCode; make: (i: number) => Buffer }> = [
  { code: 'malformed', make: (i) => Buffer.from(`{"node":"1","ts":${T0},"values":{"temperature":${i}`) },
  {
    code: 'invalid',
    make: (i) => Buffer.from(JSON.stringify({ node: '1', ts: T0 + i, values: { temperature: 'hot' } })),
  },
  { code: 'non_finite', make: (i) => Buffer.from(`{"node":"2","ts":${T0 + i},"values":{"temperature":1e999}}`) },
  { code: 'missing_timestamp', make: () => Buffer.from(JSON.stringify({ node: '3', values: { temperature: 20 } })) },
  {
    code: 'unknown_node',
    make: (i) => Buffer.from(JSON.stringify({ node: `ghost-${i}`, ts: T0 + i, values: { temperature: 20 } })),
  },
  {
    code: 'unknown_modality',
    make: (i) => Buffer.from(JSON.stringify({ node: '4', ts: T0 + i, values: { co2: 400 } })),
  },
  {
    code: 'oversized',
    make: (i) =>
      Buffer.from(JSON.stringify({ node: '5', ts: T0 + i, values: { temperature: 1 }, note: 'x'.repeat(3000) })),
  },
  { code: 'malformed', make: () => Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) },
  { code: 'non_finite', make: (i) => Buffer.from(`sensors,node=6 temperature=NaN ${(T0 + i) * 1_000_000}`) },
  {
    code: 'bad_timestamp',
    make: (i) => Buffer.from(JSON.stringify({ node: '7', ts: 'last tuesday', values: { temperature: i } })),
  },
];

describe('ingest against the real Kafka', () => {
  const kafka = useIngestOnKafka(config, 'ingest');
  const { id, topics } = kafka;

  it('sends 1,000 malformed messages to the DLQ with reasons and original bytes, and accounts for every valid reading in the frames', async () => {
    const service = await kafka.start(directory);

    // Valid: every node once per tick (JSON and line protocol alternating); 1,000 bad ones mixed in.
    const valid: Array<{ node: string; tick: number; temperature: number; humidity: number }> = [];
    const stream: OutgoingMessage[] = [];
    const badByKey = new Map<string, { code: RejectionCode; value: Buffer }>();
    let bad = 0;
    for (let k = 0; k < TICKS; k++) {
      for (const node of nodes) {
        const ts = T0 + k * T + 1_000 + Number(node) * 700;
        const temperature = Number((20 + k * 0.1 + Number(node)).toFixed(2));
        const humidity = 40 + k;
        valid.push({ node, tick: T0 + k * T, temperature, humidity });
        const value =
          (k + Number(node)) % 2 === 0
            ? JSON.stringify({
                network: 'itest',
                node,
                ts: new Date(ts).toISOString(),
                values: { temperature, humidity },
              })
            : `sensors,network=itest,node=${node} temperature=${temperature},humidity=${humidity}i ${ts}000000`;
        stream.push({ key: node, value });
        // about 3.3 bad messages per valid one
        for (let j = 0; j < 4 && bad < 1_000; j++, bad++) {
          const kind = BAD[bad % BAD.length];
          const key = `bad-${id}-${bad}`;
          const bytes = kind.make(bad);
          badByKey.set(key, { code: kind.code, value: bytes });
          stream.push({ key, value: bytes, headers: { 'x-gateway': 'itest' } });
        }
      }
    }
    expect(bad).toBe(1_000);
    // One reading past the end moves the watermark over the last tick.
    stream.push({
      key: '1',
      value: JSON.stringify({
        network: 'itest',
        node: '1',
        ts: T0 + (TICKS + 3) * T,
        values: { temperature: 0, humidity: 0 },
      }),
    });

    await kafka.sendReadings(stream, 200);

    const frames = new Map<string, Frame>();
    const dlq = new Map<string, { value: Buffer; headers: Record<string, string> }>();
    const reader = await kafka.readOutput(`itest-reader-${id}`, {
      frame: (frame, m) => {
        expect(m.key).toBe(frame.cluster);
        frames.set(`${frame.cluster}@${frame.tick}`, frame);
      },
      dlq: (m) => void dlq.set(m.key ?? '', { value: m.value, headers: m.headers }),
    });
    await waitFor('1,000 DLQ messages and all frames', () => dlq.size >= 1_000 && frames.size >= 2 * TICKS);
    await reader.close();

    // DLQ: exactly the bad messages, each with its reason, a readable message, the original bytes and its source.
    expect(dlq.size).toBe(1_000);
    const codes = new Map<string, number>();
    for (const [key, expected] of badByKey) {
      const got = dlq.get(key);
      expect(got, key).toBeDefined();
      if (!got) continue;
      expect(got.headers[DLQ_HEADERS.code], key).toBe(expected.code);
      expect(got.headers[DLQ_HEADERS.error].length).toBeGreaterThan(10);
      expect(Buffer.compare(got.value, expected.value), key).toBe(0);
      expect(got.headers[DLQ_HEADERS.topic]).toBe(topics.readings);
      expect(Number(got.headers[DLQ_HEADERS.partition])).toBeGreaterThanOrEqual(0);
      expect(got.headers[DLQ_HEADERS.offset]).toMatch(/^\d+$/);
      expect(got.headers['x-gateway']).toBe('itest');
      codes.set(expected.code, (codes.get(expected.code) ?? 0) + 1);
    }
    expect(codes.get('oversized')).toBe(100);

    // Frames: every valid reading is the value of its node at its tick, fresh.
    for (const r of valid) {
      const frame = frames.get(`${clusterOf(r.node)}@${r.tick}`);
      expect(frame, `${r.node}@${r.tick}`).toBeDefined();
      const node = frame?.nodes.find((n) => n.node === r.node);
      expect(node, `${r.node}@${r.tick}`).toEqual({
        node: r.node,
        values: { humidity: r.humidity, temperature: r.temperature },
        staleTicks: 0,
        silent: false,
      });
    }
    for (const frame of frames.values()) {
      expect(frame.network).toBe('itest');
      expect(frame.topologyVersion).toBe('itest-v1');
    }
    const metrics = service.metrics;
    expect((await metrics.accepted.get()).values[0].value).toBe(valid.length + 1);
    const rejected = await countOf(metrics.rejected);
    expect(rejected).toBe(1_000);
  });
});
