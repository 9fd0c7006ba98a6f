import { describe, expect, it } from 'vitest';
import type { OutgoingMessage, TransportProducer } from '../../../common/transport.ts';
import type { ClusterScore } from '../../../common/types.ts';
import { AnomalyPublisher } from '../../../store/anomalies.ts';
import { FanOutSink } from '../../../store/fan-out.ts';
import type { ResultBatch, ResultSink } from '../../../store/sink.ts';

class RecordingProducer implements TransportProducer {
  sent: OutgoingMessage[] = [];
  async send(_topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.sent.push(...messages);
  }
  async close(): Promise<void> {}
}

/** A sink that fails its first `failures` writes, like InfluxDB during an outage. */
class FlakySink implements ResultSink {
  readonly name = 'flaky';
  constructor(private failures: number) {}
  async write(): Promise<void> {
    if (this.failures-- > 0) throw new Error('InfluxDB unreachable');
  }
  async close(): Promise<void> {}
}

const score = (cluster: string, tick: number): ClusterScore => ({
  network: 'lab',
  cluster,
  tick,
  probability: 0.1,
  nodes: [],
});
const batch = (scores: ClusterScore[]): ResultBatch => ({ frames: [], scores, alerts: [] });

describe('AnomalyPublisher', () => {
  it('publishes each cluster tick once although the batch is retried while another sink fails', async () => {
    const producer = new RecordingProducer();
    const sink = new FanOutSink([new FlakySink(3), new AnomalyPublisher(producer)]);
    const first = batch([score('c1', 1000), score('c2', 1000), score('c1', 2000)]);
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(sink.write(first)).rejects.toThrow('InfluxDB unreachable');
    await sink.write(first);
    await sink.write(batch([score('c1', 2000), score('c1', 3000), score('c2', 2000)]));
    expect(producer.sent.map((m) => `${m.key}@${m.headers?.['x-wsn-tick']}`)).toEqual([
      'c1@1000',
      'c2@1000',
      'c1@2000',
      'c1@3000',
      'c2@2000',
    ]);
    expect(JSON.parse(String(producer.sent[0].value))).toEqual(score('c1', 1000));
  });

  it('publishes again after a failed send', async () => {
    let fail = true;
    const sent: OutgoingMessage[] = [];
    const producer: TransportProducer = {
      send: async (_t, messages) => {
        if (fail) throw new Error('broker down');
        sent.push(...messages);
      },
      close: async () => undefined,
    };
    const publisher = new AnomalyPublisher(producer);
    await expect(publisher.write(batch([score('c1', 1000)]))).rejects.toThrow('broker down');
    fail = false;
    await publisher.write(batch([score('c1', 1000)]));
    expect(sent).toHaveLength(1);
  });
});
