import { spawn } from 'node:child_process';
import type { KafkaMessage } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../../common/types.ts';
import { runId, useFoundationKafka } from './services.ts';
import { createTopicsAndWait } from '../../../transport/kafka-topics.ts';

// A message produced by an independent client (kcat, librdkafka) must be
// readable by our kafkajs consumer: the wire format is not a kafkajs-only affair.
const id = runId();
const topic = `wsn.test.foundation.kcat.${id}`;

/** Produces `key:value` lines with kcat and resolves when kcat has flushed and exited. */
function kcatProduce(broker: string, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const kcat = spawn('kcat', ['-b', broker, '-P', '-t', topic, '-K', '\t', '-c', String(lines.length)], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    kcat.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    kcat.once('error', (error) =>
      reject(new Error(`kcat could not start (${error.message}); run scripts/install-system.sh`)),
    );
    kcat.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited with ${code}: ${stderr}`))));
    kcat.stdin.end(lines.map((line) => `${line}\n`).join(''));
  });
}

describe('foundation: kcat → kafkajs', () => {
  const client = useFoundationKafka('wsn-test-foundation-kcat', [topic]);

  beforeAll(async () => {
    await createTopicsAndWait(client.admin, [{ topic, numPartitions: 1 }]);
  });

  it('reads a keyed JSON reading that kcat produced', async () => {
    const sent: Reading = {
      network: 'foundation-test',
      node: 'mote-7',
      ts: Date.UTC(2004, 2, 1, 12, 0, 0),
      values: { temperature: 21.5 },
    };
    await kcatProduce(client.broker, [`${sent.node}\t${JSON.stringify(sent)}`]);

    const consumer = client.consumer(`wsn-test-foundation-kcat-${id}`);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<KafkaMessage>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => resolve(message) }).catch(reject);
    });

    expect(String(received.key)).toBe('mote-7');
    expect(JSON.parse(String(received.value))).toEqual(sent);
  });
});
