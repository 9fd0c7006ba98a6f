/**
 * Benchmark of a large topology on the real Kafka (`wsn-watch services up`):
 * builds and clusters N random nodes (as bench/topology.ts), publishes them
 * on a topic of its own (deleted afterwards), and starts a follower that
 * rebuilds the topology from the topic. Prints wall and CPU time of each step
 * and peak RSS. Publisher and follower run in this one process, so the RSS is
 * that of both.
 *
 *   node --max-old-space-size=12288 --import tsx bench/topology-kafka.ts 1000000
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../common/config.ts';
import { createLogger } from '../common/log.ts';
import { createTopology, exportClusters, randomNodes } from '../topology/index.ts';
import { Kafka } from 'kafkajs';
import { TopologyFollower, TopologyPublisher } from '../topology/kafka.ts';

const n = Number(process.argv[2] ?? 100_000);
if (!Number.isInteger(n) || n < 1) throw new Error(`usage: bench/topology-kafka.ts NODES (got ${process.argv[2]})`);
const brokers = loadConfig({ env: process.env }).kafka.brokers;
const topic = `wsn.topology.bench-${randomUUID().slice(0, 8)}`;
const logger = createLogger('bench', 'warn');
const say = (message: string): void => void process.stderr.write(`bench topology-kafka: ${message}\n`);

async function step<T>(name: string, run: () => Promise<T> | T): Promise<{ value: T; wallS: number; cpuS: number }> {
  say(`${name} …`);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await run();
  const wallS = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuS = (used.user + used.system) / 1e6;
  say(`${name}: ${wallS.toFixed(1)} s wall, ${cpuS.toFixed(1)} s CPU`);
  return { value, wallS, cpuS };
}

const nodes = randomNodes(n, 7);
const built = await step('build edges and clusters', () =>
  createTopology(nodes, { edgeRule: { knn: 4 }, cluster: { maxSize: 64, seed: 1 } }),
);
const topology = built.value;
let lastReport = 0;
const publisher = new TopologyPublisher({
  brokers,
  network: 'bench',
  topic,
  logger,
  onProgress: (sent, total) => {
    if (sent === total || sent - lastReport >= total / 10) {
      lastReport = sent;
      say(`publish: ${sent} of ${total} records`);
    }
  },
});
const follower = new TopologyFollower({ brokers, network: 'bench', topic, logger });
try {
  await publisher.connect();
  const published = await step('publish', () => publisher.publish(topology));
  const followed = await step('follow (replay the topic and rebuild)', async () => {
    await follower.start();
    return follower.waitFor((_t, v) => v === published.value.version, 3_600_000);
  });
  const same =
    JSON.stringify(exportClusters(followed.value, { denseLimit: 0 }).map((c) => c.nodes)) ===
    JSON.stringify(exportClusters(topology, { denseLimit: 0 }).map((c) => c.nodes));
  if (!same) throw new Error('the followed topology differs from the published one');
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    '| nodes | clusters | records | build + cluster wall s (CPU s) | publish wall s (CPU s) | follow wall s (CPU s) | peak RSS MB (both) |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const f = (s: { wallS: number; cpuS: number }): string => `${s.wallS.toFixed(1)} (${s.cpuS.toFixed(1)})`;
  console.log(
    `| ${n.toLocaleString('en-US')} | ${topology.clustering.clusters.size} | ${published.value.sent} | ${f(built)} | ${f(published)} | ${f(followed)} | ${Math.round(rss)} |`,
  );
} finally {
  await follower.stop().catch(() => undefined);
  await publisher.disconnect().catch(() => undefined);
  const admin = new Kafka({ brokers, clientId: 'wsn-watch-bench' }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}
