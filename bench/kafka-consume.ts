/**
 * The ceiling under ingest: how fast kafkajs alone consumes and JSON-parses
 * readings from the real broker (`wsn-watch services up`), with 1 MiB fetches
 * per partition (kafkajs's default, what `wsn-watch ingest` uses) and with
 * 64 KiB (what it used before). Sends `--readings` simulated readings to a
 * topic of its own with 6 partitions (deleted afterwards), then reads them
 * once per fetch size, each with a new consumer group. Prints messages/s of
 * wall and of CPU time.
 *
 *   node --import tsx bench/kafka-consume.ts --readings 300000
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../common/config.ts';
import { Simulation } from '../sources/simulate.ts';

const { values: args } = parseArgs({ options: { readings: { type: 'string', default: '300000' } } });
const wanted = Number(args.readings);
if (!Number.isInteger(wanted) || wanted < 1)
  throw new Error(`--readings must be a positive integer, got ${args.readings}`);
const brokers = loadConfig({ env: process.env }).kafka.brokers;
const topic = `bench.readings.${randomUUID().slice(0, 8)}`;
const kafka = new Kafka({ clientId: 'wsn-bench-consume', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const say = (message: string): void => void process.stderr.write(`bench kafka-consume: ${message}\n`);

await admin.connect();
try {
  await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }], waitForLeaders: true });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const simulation = new Simulation({ nodes: 10_000, seed: 3, network: 'bench', startTs: 56_000_000 * 31_000 });
  let sent = 0;
  for (let k = 0; sent < wanted; k++) {
    const round = simulation.round(k).slice(0, wanted - sent);
    for (let i = 0; i < round.length; i += 2_000) {
      await producer.send({
        topic,
        messages: round.slice(i, i + 2_000).map((r) => ({ key: r.node, value: JSON.stringify(r) })),
      });
    }
    sent += round.length;
    say(`sent ${sent} of ${wanted}`);
  }
  await producer.disconnect();

  const rows: string[] = [];
  for (const fetchBytes of [1024 * 1024, 64 * 1024]) {
    const consumer = kafka.consumer({ groupId: `bench-consume-${randomUUID()}`, maxBytesPerPartition: fetchBytes });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let received = 0;
    let batches = 0;
    let started = 0;
    let cpu = process.cpuUsage();
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          if (started === 0) {
            started = performance.now();
            cpu = process.cpuUsage();
          }
          for (const m of batch.messages) JSON.parse(m.value!.toString());
          received += batch.messages.length;
          batches++;
          if (received >= sent) resolve();
        },
      });
    });
    await done;
    const wallS = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuS = (used.user + used.system) / 1e6;
    await consumer.disconnect();
    say(`${fetchBytes / 1024} KiB: ${received} messages in ${wallS.toFixed(1)} s (${cpuS.toFixed(1)} s CPU)`);
    rows.push(
      `| ${fetchBytes / 1024} | ${received} | ${batches} | ${wallS.toFixed(2)} | ${cpuS.toFixed(2)} | ${Math.round(received / wallS)} | ${Math.round(received / cpuS)} |`,
    );
  }
  console.log(
    '| fetch KiB per partition | messages | batches | wall s | CPU s | messages/s (wall) | messages/s (CPU) |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) console.log(row);
} finally {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}
