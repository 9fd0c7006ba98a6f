/**
 * `wsn-watch topology show|cluster|export|publish FILE`: load positions (IBRL
 * node.txt, JSON, CSV, or a saved snapshot), build the graph and clusters,
 * and print, draw, export or publish them. This file declares and translates
 * the flags; files.ts, publish-run.ts and follow-run.ts do the work.
 */
import type { Command } from 'commander';
import { integerArg, positiveArg } from '../common/cli-parsers.ts';
import { loadConfig, type Config } from '../common/config.ts';
import {
  addTopologyOptions,
  clusterOptionsFrom,
  edgeRuleFrom,
  loadOptionsFrom,
  type TopologyCliOptions,
} from './cli-options.ts';
import { exportClusters, topologyVersion } from './export.ts';
import { openTopology, writeOut } from './files.ts';
import { followTopology, type FollowTopologyFlags } from './follow-run.ts';
import { publishTopology } from './publish-run.ts';
import { saveSnapshot } from './snapshot.ts';
import { summarize } from './summary.ts';
import { renderSvg } from './svg.ts';
import type { Topology } from './types.ts';

const progress = (message: string): void => {
  process.stderr.write(`topology: ${message}\n`);
};

/** Loads positions (or a snapshot) and builds the clustered topology the flags ask for, with progress on stderr. */
function openFromFlags(file: string, options: TopologyCliOptions): Topology {
  const open = {
    load: loadOptionsFrom(options),
    edgeRule: edgeRuleFrom(options),
    cluster: clusterOptionsFrom(options),
  };
  return openTopology(file, open, progress);
}

function configOf(command: Command): Config {
  return loadConfig({ file: command.optsWithGlobals<{ config?: string }>().config });
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
  ).action(publishCommand);
  topology
    .command('follow')
    .description(
      `follow the compacted Kafka topic and print each new version of the configured network's topology (Ctrl-C to stop)`,
    )
    .option('--once', 'exit after the first complete topology', false)
    .option('--timeout <seconds>', 'with --once: give up after this many seconds', positiveArg('--timeout'), 60)
    .action(followCommand);
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
    const t = openFromFlags(file, options);
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
    const t = openFromFlags(file, options);
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
    const t = openFromFlags(file, options);
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

async function publishCommand(file: string, options: TopologyCliOptions, command: Command): Promise<void> {
  const config = configOf(command);
  const result = await publishTopology(config, openFromFlags(file, options), progress);
  process.stdout.write(
    `published network "${config.network}": ${result.sent} record(s), ${result.tombstones} tombstone(s), version ${result.version}\n`,
  );
}

async function followCommand(flags: FollowTopologyFlags, command: Command): Promise<void> {
  await followTopology(configOf(command), { ...flags, progress });
}
