/**
 * What the Kafka connections of a service cost while nothing flows: a
 * KafkaTransport on the real broker (`wsn-watch services up`) with what a
 * detector holds open besides its frames (a producer, a subscription to a
 * topic of its own, a keyed table with its reader), idle for `--seconds`.
 * Prints the process's CPU ms per minute of idling, with the fix of kafkajs's
 * request queue (transport/kafkajs-request-queue.ts) and, with `--unfixed`,
 * kafkajs's own scheduling put back. Topics are deleted afterwards.
 *
 *   node --import tsx bench/kafka-idle.ts --seconds 60
 *   node --import tsx bench/kafka-idle.ts --seconds 60 --unfixed
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig } from '../common/config.ts';
import { createLogger } from '../common/log.ts';
import { KafkaTransport } from '../transport/kafka.ts';
import { RequestQueue } from '../transport/kafkajs-request-queue.ts';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '60' }, unfixed: { type: 'boolean', default: false } },
});
const seconds = Number(args.seconds);
if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${args.seconds}`);
const say = (message: string): void => void process.stderr.write(`bench kafka-idle: ${message}\n`);

if (args.unfixed) {
  // kafkajs 2.2.4's method, from the package itself: load its module again outside the require cache.
  const require = createRequire(import.meta.url);
  const path = require.resolve('kafkajs/src/network/requestQueue/index.js');
  const fixed = require.cache[path];
  delete require.cache[path];
  const original = require(path) as typeof RequestQueue;
  require.cache[path] = fixed;
  RequestQueue.prototype.scheduleCheckPendingRequests = original.prototype.scheduleCheckPendingRequests;
}

const brokers = loadConfig({ env: process.env }).kafka.brokers;
const id = randomUUID().slice(0, 8);
const topic = `bench.idle.${id}`;
const tableTopic = `bench.idle-table.${id}`;
const transport = new KafkaTransport({
  brokers,
  clientId: `wsn-bench-idle-${id}`,
  logger: createLogger('bench', 'warn'),
});
await transport.ensureTopics([{ topic, partitions: 4 }]);
const producer = await transport.producer();
await producer.send(topic, [{ key: 'k', value: 'warm-up' }]);
const subscription = await transport.subscribe({
  groupId: `bench-idle-${id}`,
  topics: [topic],
  fromBeginning: true,
  onBatch: async () => undefined,
});
const table = transport.table({ topic: tableTopic, partitions: 1 });
await table.open();
await table.put([{ key: 'k', value: Buffer.from('v') }]);
await table.readToEnd();

say(`${args.unfixed ? "kafkajs's own request queue" : 'fixed request queue'}; idling ${seconds} s`);
const before = process.cpuUsage();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const used = process.cpuUsage(before);
const cpuMs = (used.user + used.system) / 1000;

await subscription.close();
await producer.close();
await table.close();
await transport.close();
const admin = new Kafka({ brokers, clientId: 'wsn-bench-idle-cleanup', logLevel: logLevel.NOTHING }).admin();
await admin.connect();
await admin.deleteTopics({ topics: [topic, tableTopic] });
await admin.disconnect();

process.stdout.write(
  `| request queue | idle s | CPU ms | CPU ms per minute idle |\n| --- | ---: | ---: | ---: |\n` +
    `| ${args.unfixed ? 'kafkajs 2.2.4' : 'fixed'} | ${seconds} | ${cpuMs.toFixed(0)} | ${((cpuMs * 60) / seconds).toFixed(0)} |\n`,
);
