/**
 * `wsn-watch topology show|cluster|export|publish FILE`: load positions (IBRL
 * node.txt, JSON, CSV, or a saved snapshot), build the graph and clusters,
 * and print, draw, export or publish them.
 */
import { integerArg, positiveArg } from '../common/cli-parsers.ts';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../common/config.ts';
import { createLogger } from '../common/log.ts';
import {
  addTopologyOptions,
  clusterOptionsFrom,
  edgeRuleFrom,
  loadOptionsFrom,
  type TopologyCliOptions,
} from './cli-options.ts';
import { exportClusters, topologyVersion } from './export.ts';
import { loadTopology } from './loaders/index.ts';
import { SNAPSHOT_KIND, fromSnapshot, saveSnapshot } from './snapshot.ts';
import { summarize } from './summary.ts';
import { renderSvg } from './svg.ts';
import { buildNetwork } from './network.ts';
import { clusterNetwork } from './clustering.ts';
import type { Topology } from './types.ts';

const logger = createLogger('topology');
const progress = (message: string): void => {
  process.stderr.write(`topology: ${message}\n`);
};

function isSnapshotFile(file: string): unknown {
  if (!file.toLowerCase().endsWith('.json')) return null;
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { kind?: unknown };
    return doc && doc.kind === SNAPSHOT_KIND ? doc : null;
  } catch {
    return null;
  }
}

/** Loads positions (or a snapshot) and builds the clustered topology, with progress on stderr. */
export function openTopology(file: string, options: TopologyCliOptions): Topology {
  const snapshot = isSnapshotFile(file);
  if (snapshot) {
    progress(`${file} is a snapshot: its own edge rule and clusters apply`);
    return fromSnapshot(snapshot, file);
  }
  const started = Date.now();
  const loaded = loadTopology(file, loadOptionsFrom(options));
  progress(
    `loaded ${loaded.nodes.length} nodes (${loaded.excluded.length} excluded) from ${file}; building edges and clusters`,
  );
  const network = buildNetwork(loaded.nodes, edgeRuleFrom(options), {
    excluded: loaded.excluded,
    warnings: loaded.warnings,
  });
  progress(`${network.graph.size} edges after ${Date.now() - started} ms; clustering`);
  const topology: Topology = { network, clustering: clusterNetwork(network, clusterOptionsFrom(options)) };
  progress(`${topology.clustering.clusters.size} cluster(s) after ${Date.now() - started} ms`);
  return topology;
}

function writeOut(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function maybeSvg(topology: Topology, options: TopologyCliOptions, file: string): void {
  if (!options.svg) return;
  writeOut(options.svg, renderSvg(topology, { title: `topology of ${file}` }));
  progress(`wrote ${options.svg}`);
}

/** Registers `wsn-watch topology ...`. */
export function registerTopologyCommands(program: Command): void {
  const topology = program
    .command('topology')
    .description(
      'the sensor network as a graph: load positions, build edges, cluster for scale, export per cluster, publish on Kafka',
    );
  registerShowAndCluster(topology);
  registerExport(topology);
  addTopologyOptions(
    topology
      .command('publish')
      .argument('<file>', 'node positions (IBRL, JSON, CSV) or a topology snapshot')
      .description(
        `publish the topology on the compacted Kafka topic (created with cleanup.policy=compact if missing); only changed records are sent`,
      ),
  ).action(publishTopology);
  topology
    .command('follow')
    .description(
      `follow the compacted Kafka topic and print each new version of the configured network's topology (Ctrl-C to stop)`,
    )
    .option('--once', 'exit after the first complete topology', false)
    .option('--timeout <seconds>', 'with --once: give up after this many seconds', positiveArg('--timeout'), 60)
    .action(followTopology);
}

function registerShowAndCluster(topology: Command): void {
  addTopologyOptions(
    topology
      .command('show')
      .argument('<file>', 'node positions: IBRL node.txt ("id x y"), .json, .csv, or a topology snapshot .json')
      .description(
        'print a summary: nodes, edges, degree statistics, clusters and their sizes, excluded nodes with reasons',
      ),
  ).action((file: string, options: TopologyCliOptions) => {
    const t = openTopology(file, options);
    process.stdout.write(summarize(t));
    maybeSvg(t, options, file);
  });
  addTopologyOptions(
    topology
      .command('cluster')
      .argument('<file>', 'node positions (IBRL, JSON, CSV) or a topology snapshot')
      .description('cluster the network and list every cluster (members, partition, version)')
      .option(
        '--snapshot <out>',
        'save the clustered topology as a JSON snapshot (load it again with any topology command)',
      ),
  ).action((file: string, options: TopologyCliOptions & { snapshot?: string }) => {
    const t = openTopology(file, options);
    process.stdout.write(summarize(t, { listClusters: true }));
    if (options.snapshot) {
      saveSnapshot(t, options.snapshot);
      progress(`wrote snapshot ${options.snapshot}`);
    }
    maybeSvg(t, options, file);
  });
}

function registerExport(topology: Command): void {
  addTopologyOptions(
    topology
      .command('export')
      .argument('<file>', 'node positions (IBRL, JSON, CSV) or a topology snapshot')
      .description(
        'write what a per-cluster model needs as JSON: ordered nodes, positions, weighted adjacency, neighbours, version',
      )
      .option('--out <file>', 'write to this file instead of stdout')
      .option('--snapshot <out>', 'also save the topology snapshot the export was made from')
      .option(
        '--dense-limit <n>',
        'largest cluster given a dense adjacency matrix (larger ones: adjacency null, use edges)',
        integerArg('--dense-limit', 0),
        1024,
      ),
  ).action((file: string, options: TopologyCliOptions & { out?: string; snapshot?: string; denseLimit: number }) => {
    const t = openTopology(file, options);
    const clusters = exportClusters(t, { denseLimit: options.denseLimit });
    const doc = { version: topologyVersion(t, clusters), partitions: t.clustering.options.partitions, clusters };
    const text = `${JSON.stringify(doc)}\n`;
    if (options.out) {
      writeOut(options.out, text);
      progress(`wrote ${clusters.length} clusters to ${options.out}`);
    } else process.stdout.write(text);
    if (options.snapshot) saveSnapshot(t, options.snapshot);
    maybeSvg(t, options, file);
  });
}

async function publishTopology(file: string, options: TopologyCliOptions, command: Command): Promise<void> {
  const { TopologyPublisher, kafkaConnection } = await import('./kafka.ts');
  const config = loadConfig({ file: command.optsWithGlobals<{ config?: string }>().config });
  const t = openTopology(file, options);
  let reported = 0;
  const publisher = new TopologyPublisher({
    ...kafkaConnection(config.kafka),
    network: config.network,
    logger,
    // A large network goes out in many requests: say how far it got, every 5 % or so.
    onProgress: (sent, total) => {
      if (sent === total || sent - reported >= total / 20) {
        reported = sent;
        progress(`publish: ${sent.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} records sent`);
      }
    },
  });
  await publisher.connect();
  try {
    const result = await publisher.publish(t);
    process.stdout.write(
      `published network "${config.network}": ${result.sent} record(s), ${result.tombstones} tombstone(s), version ${result.version}\n`,
    );
  } finally {
    await publisher.disconnect();
  }
}

async function followTopology(options: { once: boolean; timeout: number }, command: Command): Promise<void> {
  const { TopologyFollower, kafkaConnection } = await import('./kafka.ts');
  const config = loadConfig({ file: command.optsWithGlobals<{ config?: string }>().config });
  const follower = new TopologyFollower({
    ...kafkaConnection(config.kafka),
    network: config.network,
    logger,
  });
  const print = (t: Topology, version: string): void => {
    const sizes = [...t.clustering.clusters.values()].map((c) => c.members.size);
    process.stdout.write(
      `${new Date().toISOString()} network "${config.network}" version ${version}: ${t.network.graph.order} nodes, ${t.network.graph.size} edges, ${sizes.length} clusters (largest ${Math.max(0, ...sizes)})\n`,
    );
  };
  progress(`following ${config.network} on ${config.kafka.brokers.join(',')}`);
  if (options.once) {
    await follower.start();
    try {
      const t = await follower.waitFor(() => true, options.timeout * 1000);
      print(t, follower.currentVersion()!);
    } finally {
      await follower.stop();
    }
    return;
  }
  await follower.start(print);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await follower.stop();
}
