import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../common/types.ts';
import { DLQ_HEADERS } from '../../../ingest/pipeline.ts';
import { FIRST_EPOCH, SLICE_MOTES } from './ibrl-slice.ts';
import { useSlicePipeline } from './slice-fixture.ts';

// `wsn-watch ingest` as its own process, on topics named by its flags: IBRL
// readings and bad messages in, frames and rejects out, on the real Kafka.

const slice = useSlicePipeline();
const ROUNDS = 60;

describe('wsn-watch ingest on topics given by flags (real Kafka)', () => {
  it('reads --readings-topic, publishes frames on --frames-topic and rejects to --dlq-topic; SIGTERM exits 0', async () => {
    const p = slice.open('ingest-cli');
    const ingest = await p.startIngestCli(slice.data.nodeFile);
    const sent = await p.replay(slice.data.dir, [
      '--speed',
      'max',
      '--from-epoch',
      String(FIRST_EPOCH),
      '--to-epoch',
      String(FIRST_EPOCH + ROUNDS - 1),
    ]);
    // Motes skip some rounds: the slice has 382 readings in its first 60 rounds.
    expect(sent).toBe(382);
    const bad = [
      { key: 'bad-json', value: '{"node":"45",' },
      {
        key: 'bad-node',
        value: JSON.stringify({
          network: p.network,
          node: 'ghost',
          ts: Date.UTC(2004, 2, 4),
          values: { temperature: 20 },
        }),
      },
    ];
    const producer = await p.transport.producer();
    await producer.send(p.topics.readings, bad);
    await producer.close();

    const rejects = await p.readTopic(p.topics.readingsDlq, (messages) => messages.length >= bad.length);
    expect(rejects.map((message) => [message.key, message.headers[DLQ_HEADERS.code]]).sort()).toEqual([
      ['bad-json', 'malformed'],
      ['bad-node', 'unknown_node'],
    ]);
    expect(rejects.every((message) => message.headers[DLQ_HEADERS.topic] === p.topics.readings)).toBe(true);

    // The replay's last rounds stay open behind the watermark; most of the slice is emitted.
    const frames = (await p.readTopic(p.topics.frames, (messages) => messages.length >= ROUNDS / 2)).map(
      (message) => JSON.parse(message.value.toString('utf8')) as Frame,
    );
    expect(frames.length).toBeGreaterThanOrEqual(ROUNDS / 2);
    for (const frame of frames) {
      expect(frame.network).toBe(p.network);
      expect(frame.nodes.map((node) => node.node).sort()).toEqual([...SLICE_MOTES].sort());
    }
    const metrics = await (await fetch(`http://127.0.0.1:${ingest.port}/metrics`)).text();
    expect(metrics).toMatch(/wsn_ingest_rejected_total\{reason="malformed"\} 1/);

    ingest.child.kill('SIGTERM');
    expect((await ingest.exited).code).toBe(0);
  });
});
