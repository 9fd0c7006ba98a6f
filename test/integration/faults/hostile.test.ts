import { describe, it, expect } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import type { OutgoingMessage } from '../../../common/transport.ts';
import type { Frame } from '../../../common/types.ts';
import { DLQ_HEADERS } from '../../../ingest/pipeline.ts';
import type { RejectionCode } from '../../../ingest/rejection.ts';
import { ingestTopicSpecs } from '../../../ingest/topics.ts';
import { TOPICS } from '../../../common/types.ts';
import { partitionForKey } from '../../../transport/partitioner.ts';
import { directoryOf } from '../../support/ingest.ts';
import { useIngestOnKafka } from '../../support/kafka.ts';
import { countOf } from '../../support/metrics.ts';
import { waitFor } from '../../support/wait.ts';

// Fault scenario "100,000 hostile messages": every kind of bad message ingest
// knows, including the edges of issue 13 (finite but impossible values,
// prototype keys, readings from the future), mixed into a valid stream on the
// real Kafka. Ingest must stay up, send each bad one to the DLQ with its
// reason, and still turn every valid reading into its frame.

const T = 31_000;
const T0 = Math.floor(Date.UTC(2025, 0, 1) / T) * T;
const TICKS = 20;
const HOSTILE = 100_000;
// No partition is ever declared idle (30 min): every readings partition carries one node,
// so the watermark moves with the data alone and no valid reading can turn late on a busy machine.
const config = loadConfig({
  env: {
    ...process.env,
    WSN_NETWORK: 'hostile',
    WSN_PARTITION_IDLE_MS: String(30 * 60_000),
    WSN_MAX_MESSAGE_BYTES: '1024',
  },
});
const READINGS_PARTITIONS = ingestTopicSpecs().find((spec) => spec.topic === TOPICS.readings)?.partitions ?? 6;
/** One node id per readings partition (Kafka's default partitioner on the key). */
const nodes: string[] = [];
for (let i = 1; nodes.length < READINGS_PARTITIONS; i++) {
  const partition = partitionForKey(`n${i}`, READINGS_PARTITIONS);
  if (!nodes.some((n) => partitionForKey(n, READINGS_PARTITIONS) === partition)) nodes.push(`n${i}`);
}
const directory = directoryOf('hostile', 'hostile-v1', [['all', nodes, ['temperature', 'humidity']]]);

/** Kinds of hostile message, used in turn, with the reason each must get in the DLQ. */
const KINDS: Array<{ code: RejectionCode; make: (i: number) => string | Buffer }> = [
  { code: 'implausible', make: (i) => JSON.stringify({ node: nodes[0], ts: T0 + i, values: { temperature: 1e308 } }) },
  { code: 'implausible', make: (i) => `s,node=${nodes[1]} humidity=-8983.13 ${T0 + i}000000` },
  {
    code: 'forbidden_key',
    make: (i) => `{"node":"${nodes[2]}","ts":${T0 + i},"values":{"__proto__":{"temperature":1},"temperature":21}}`,
  },
  {
    code: 'forbidden_key',
    make: (i) =>
      `{"node":"${nodes[2]}","ts":${T0 + i},"constructor":{"prototype":{"x":1}},"values":{"temperature":21}}`,
  },
  { code: 'forbidden_key', make: (i) => `s,node=${nodes[3]} __proto__=1,temperature=2 ${T0 + i}000000` },
  {
    code: 'future',
    make: () => JSON.stringify({ node: nodes[4], ts: Date.now() + 23 * 3600_000, values: { temperature: 21 } }),
  },
  { code: 'malformed', make: (i) => `{"node":"${nodes[0]}","ts":${T0},"values":{"temperature":${i}` },
  { code: 'malformed', make: () => Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) },
  { code: 'invalid', make: (i) => JSON.stringify({ node: nodes[0], ts: T0 + i, values: { temperature: 'hot' } }) },
  { code: 'non_finite', make: (i) => `{"node":"${nodes[1]}","ts":${T0 + i},"values":{"temperature":-1e999}}` },
  {
    code: 'unknown_node',
    make: (i) => JSON.stringify({ node: `ghost-${i}`, ts: T0 + i, values: { temperature: 20 } }),
  },
  {
    code: 'oversized',
    make: (i) => JSON.stringify({ node: nodes[4], ts: T0 + i, values: { temperature: 1 }, note: 'x'.repeat(1100) }),
  },
];

describe('fault: 100,000 hostile messages (real Kafka)', () => {
  const kafka = useIngestOnKafka(config, 'hostile');
  const { id } = kafka;

  it('rejects each hostile message to the DLQ with its reason and keeps every valid reading', async () => {
    const service = await kafka.start(directory);
    const expected = new Map<RejectionCode, number>();
    const stream: OutgoingMessage[] = [];
    let hostile = 0;
    const perValid = Math.ceil(HOSTILE / (TICKS * nodes.length));
    for (let k = 0; k < TICKS; k++) {
      for (const node of nodes) {
        stream.push({
          key: node,
          value: JSON.stringify({ node, ts: T0 + k * T + 1_000, values: { temperature: 20 + k, humidity: 40 } }),
        });
        for (let j = 0; j < perValid && hostile < HOSTILE; j++, hostile++) {
          const kind = KINDS[hostile % KINDS.length];
          expected.set(kind.code, (expected.get(kind.code) ?? 0) + 1);
          stream.push({ key: `bad-${hostile}`, value: kind.make(hostile) });
        }
      }
    }
    expect(hostile).toBe(HOSTILE);
    // Every node once more, 3 ticks after the last: the watermark (slowest partition) passes tick TICKS - 1.
    for (const node of nodes)
      stream.push({
        key: node,
        value: JSON.stringify({ node, ts: T0 + (TICKS + 3) * T, values: { temperature: 0, humidity: 0 } }),
      });

    await kafka.sendReadings(stream, 1_000);

    const frames = new Map<number, Frame>();
    const dlqCodes = new Map<string, number>();
    const dlqKeys = new Set<string>();
    const dlqPositions = new Set<string>();
    let dlqMessages = 0;
    const reader = await kafka.readOutput(`itest-hostile-reader-${id}`, {
      frame: (frame) => void frames.set(frame.tick, frame),
      dlq: (m) => {
        // The reader is at-least-once too: count each DLQ record (partition, offset) once.
        const position = `${m.partition}:${m.offset}`;
        if (dlqPositions.has(position)) return;
        dlqPositions.add(position);
        dlqMessages++;
        dlqKeys.add(m.key ?? '');
        const code = m.headers[DLQ_HEADERS.code];
        dlqCodes.set(code, (dlqCodes.get(code) ?? 0) + 1);
      },
    });
    await waitFor(`${HOSTILE} DLQ messages and ${TICKS} frames`, () => dlqMessages >= HOSTILE && frames.size >= TICKS);
    // A little longer: anything beyond the expected count would show up now.
    await new Promise((r) => setTimeout(r, 2_000));
    await reader.close();

    expect(dlqKeys.size).toBe(HOSTILE);
    expect(dlqMessages).toBe(HOSTILE);
    expect(Object.fromEntries(dlqCodes)).toEqual(Object.fromEntries(expected));
    for (let k = 0; k < TICKS; k++) {
      const frame = frames.get(T0 + k * T);
      expect(frame, `tick ${k}`).toBeDefined();
      for (const node of frame?.nodes ?? [])
        expect(node.values, `node ${node.node} tick ${k}`).toEqual({ temperature: 20 + k, humidity: 40 });
    }
    expect((await service.metrics.accepted.get()).values[0].value).toBe((TICKS + 1) * nodes.length);
    const rejected = await countOf(service.metrics.rejected);
    expect(rejected).toBe(HOSTILE);
    // Nothing reached Object.prototype.
    expect(({} as Record<string, unknown>).temperature).toBeUndefined();
  });
});
