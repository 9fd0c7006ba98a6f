import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../../../common/transport.ts';
import { loadIbrl } from '../../../sources/ibrl.ts';
import { DLQ_HEADERS } from '../../../ingest/pipeline.ts';
import type { RejectionCode } from '../../../ingest/rejection.ts';
import { FIRST_EPOCH, IBRL_DIR, MODALITIES, SLICE_ALERTS, SLICE_MOTES, WINDOW } from './ibrl-slice.ts';
import { TICK_MS } from './pipeline.ts';
import { waitFor } from '../../support/wait.ts';
import { useSlicePipeline } from './slice-fixture.ts';
import { scoredClusterTicks } from '../../support/influx.ts';

// 1,000 malformed messages mixed into a stream of valid readings, through
// ingest and `wsn-watch detect` into InfluxDB, on the real Kafka and InfluxDB.

const TICKS = 40;
/** Tick-aligned start, the first IBRL day. */
const T0 = Math.floor(Date.UTC(2004, 2, 4) / TICK_MS) * TICK_MS;
const BAD_COUNT = 1_000;

/** Ten kinds of bad message, used in turn, with the reason each must get in the DLQ. */
function badKinds(network: string): Array<{ code: RejectionCode; make: (i: number) => Buffer }> {
  const ts = (i: number): number => T0 + (i % TICKS) * TICK_MS + 7;
  return [
    {
      code: 'malformed',
      make: (i) => Buffer.from(`{"network":"${network}","node":"45","ts":${ts(i)},"values":{"temperature":${i}`),
    },
    {
      code: 'invalid',
      make: (i) => Buffer.from(JSON.stringify({ network, node: '45', ts: ts(i), values: { temperature: 'warm' } })),
    },
    {
      code: 'non_finite',
      make: (i) => Buffer.from(`{"network":"${network}","node":"46","ts":${ts(i)},"values":{"humidity":1e999}}`),
    },
    {
      code: 'missing_timestamp',
      make: (i) => Buffer.from(JSON.stringify({ network, node: '47', values: { temperature: i } })),
    },
    {
      code: 'unknown_node',
      make: (i) => Buffer.from(JSON.stringify({ network, node: `ghost-${i}`, ts: ts(i), values: { temperature: 20 } })),
    },
    {
      code: 'unknown_modality',
      make: (i) => Buffer.from(JSON.stringify({ network, node: '48', ts: ts(i), values: { co2: 400 } })),
    },
    {
      code: 'oversized',
      make: (i) =>
        Buffer.from(
          JSON.stringify({ network, node: '36', ts: ts(i), values: { temperature: 20 }, note: 'x'.repeat(70_000) }),
        ),
    },
    { code: 'malformed', make: () => Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) },
    {
      code: 'non_finite',
      make: (i) => Buffer.from(`sensors,network=${network},node=38 temperature=NaN ${ts(i) * 1_000_000}`),
    },
    {
      code: 'bad_timestamp',
      make: () =>
        Buffer.from(JSON.stringify({ network, node: '40', ts: 'yesterday at noon', values: { voltage: 2.6 } })),
    },
  ];
}

const slice = useSlicePipeline();

describe('bad messages in the stream, end to end (real Kafka, InfluxDB)', () => {
  it('1,000 malformed messages land in the DLQ with their reasons; every valid reading is in InfluxDB exactly once', async () => {
    const pipeline = slice.open('dlq');
    await pipeline.startIngest(slice.data.nodeFile);
    const detector = await pipeline.startDetector('d1', slice.model, SLICE_ALERTS, { alertmanager: false });
    const { network } = pipeline;

    // Valid: each mote once per tick, with its real values of round FIRST_EPOCH + k (the slice's aligned series).
    const ibrl = await loadIbrl(IBRL_DIR, {
      motes: [...SLICE_MOTES],
      modalities: MODALITIES,
      firstEpoch: FIRST_EPOCH,
      lastEpoch: FIRST_EPOCH + TICKS - 1,
      samples: TICKS,
    });
    const { nodes } = ibrl.series;
    const valid = new Map<string, Record<string, number>>();
    const stream: OutgoingMessage[] = [];
    const bad = badKinds(network);
    const expectedCode = new Map<string, RejectionCode>();
    let badSent = 0;
    for (let k = 0; k < TICKS; k++) {
      nodes.forEach((node, n) => {
        const values: Record<string, number> = {};
        MODALITIES.forEach(
          (modality, m) =>
            (values[modality] = Number(ibrl.series.data[(k * nodes.length + n) * MODALITIES.length + m].toFixed(4))),
        );
        const ts = T0 + k * TICK_MS + 1_000 + n * 500;
        valid.set(`${node}@${T0 + k * TICK_MS}`, values);
        stream.push({ key: node, value: JSON.stringify({ network, node, ts: new Date(ts).toISOString(), values }) });
        // 1,000 bad among 320 valid: about three after each valid one.
        for (let j = 0; j < 4 && badSent < BAD_COUNT; j++, badSent++) {
          const key = `bad-${badSent}`;
          const kind = bad[badSent % bad.length];
          expectedCode.set(key, kind.code);
          stream.push({ key, value: kind.make(badSent) });
        }
      });
    }
    while (badSent < BAD_COUNT) {
      const key = `bad-${badSent}`;
      const kind = bad[badSent % bad.length];
      expectedCode.set(key, kind.code);
      stream.push({ key, value: kind.make(badSent++) });
    }
    // Then every mote once more, 3 ticks after the last: this moves the watermark
    // (the slowest partition, minus 2 ticks of allowed lateness) past tick TICKS,
    // so ticks 0 .. TICKS are emitted (TICKS itself with the last values carried over).
    for (const node of nodes)
      stream.push({
        key: node,
        value: JSON.stringify({
          network,
          node,
          ts: T0 + (TICKS + 3) * TICK_MS + 1_000,
          values: { temperature: 20, humidity: 40, voltage: 2.6 },
        }),
      });

    const producer = await pipeline.transport.producer();
    for (let i = 0; i < stream.length; i += 250)
      await producer.send(pipeline.topics.readings, stream.slice(i, i + 250));
    await producer.close();

    await waitFor('ingest to take every message', async () => {
      const counts = await pipeline.ingestCounts();
      return counts.accepted + counts.rejected === valid.size + nodes.length + BAD_COUNT;
    });
    const counts = await pipeline.ingestCounts();
    expect(counts).toEqual({ accepted: valid.size + nodes.length, rejected: BAD_COUNT, frames: TICKS + 1 });

    // The DLQ: exactly the bad messages, each with its reason and a message saying what was wrong.
    const dlq = await pipeline.readTopic(pipeline.topics.readingsDlq, (messages) => messages.length >= BAD_COUNT);
    expect(dlq).toHaveLength(BAD_COUNT);
    const byCode = new Map<string, number>();
    for (const message of dlq) {
      const key = message.key ?? '';
      expect(message.headers[DLQ_HEADERS.code], key).toBe(expectedCode.get(key));
      expect(message.headers[DLQ_HEADERS.error].length, key).toBeGreaterThan(10);
      expect(message.headers[DLQ_HEADERS.topic]).toBe(pipeline.topics.readings);
      byCode.set(message.headers[DLQ_HEADERS.code], (byCode.get(message.headers[DLQ_HEADERS.code]) ?? 0) + 1);
    }
    expect(new Set(dlq.map((message) => message.key)).size).toBe(BAD_COUNT);
    expect(Object.fromEntries(byCode)).toEqual({
      malformed: 200,
      invalid: 100,
      non_finite: 200,
      missing_timestamp: 100,
      unknown_node: 100,
      unknown_modality: 100,
      oversized: 100,
      bad_timestamp: 100,
    });

    // InfluxDB, once the detector has written every emitted tick (the first WINDOW - 1 only fill the window):
    // in ticks 0 .. TICKS-1 the `anomaly` measurement holds exactly one point per valid reading, with its values.
    await waitFor('the detector to write every emitted tick', async () => {
      return (await scoredClusterTicks(pipeline)).size === TICKS + 1 - (WINDOW - 1);
    });
    const points = await pipeline.query<{
      time: Date;
      node: string;
      temperature: number;
      humidity: number;
      voltage: number;
    }>(
      `SELECT value_temperature AS temperature, value_humidity AS humidity, value_voltage AS voltage, node FROM anomaly WHERE time < ${T0 + TICKS * TICK_MS}ms`,
    );
    expect(points).toHaveLength(valid.size);
    for (const point of points) {
      const key = `${point.node}@${point.time.getTime()}`;
      expect({ temperature: point.temperature, humidity: point.humidity, voltage: point.voltage }, key).toEqual(
        valid.get(key),
      );
    }
    expect(new Set(points.map((point) => `${point.node}@${point.time.getTime()}`)).size).toBe(valid.size);
    detector.child.kill('SIGTERM');
    expect((await detector.exited).code).toBe(0);
  });
});
