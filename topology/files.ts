/**
 * The topology commands' files: positions (IBRL node.txt, JSON, CSV) or a
 * saved snapshot read into a clustered topology, and text written out.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { clusterNetwork } from './clustering.ts';
import { loadTopology, type LoadOptions } from './loaders/index.ts';
import { buildNetwork } from './network.ts';
import { SNAPSHOT_KIND, fromSnapshot } from './snapshot.ts';
import type { ClusterOptions, EdgeRule, Topology } from './types.ts';

/** How positions become a clustered topology (a snapshot brings its own edge rule and clusters). */
export interface OpenTopologyOptions {
  load: LoadOptions;
  edgeRule: EdgeRule;
  cluster: ClusterOptions;
}

function isSnapshotFile(file: string): unknown {
  if (!file.toLowerCase().endsWith('.json')) return null;
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { kind?: unknown };
    return doc && doc.kind === SNAPSHOT_KIND ? doc : null;
  } catch {
    return null;
  }
}

/** Loads positions (or a snapshot) and builds the clustered topology, saying how far it got through `progress`. */
export function openTopology(
  file: string,
  options: OpenTopologyOptions,
  progress: (message: string) => void,
): Topology {
  const snapshot = isSnapshotFile(file);
  if (snapshot) {
    progress(`${file} is a snapshot: its own edge rule and clusters apply`);
    return fromSnapshot(snapshot, file);
  }
  const started = Date.now();
  const loaded = loadTopology(file, options.load);
  progress(
    `loaded ${loaded.nodes.length} nodes (${loaded.excluded.length} excluded) from ${file}; building edges and clusters`,
  );
  const network = buildNetwork(loaded.nodes, options.edgeRule, {
    excluded: loaded.excluded,
    warnings: loaded.warnings,
  });
  progress(`${network.graph.size} edges after ${Date.now() - started} ms; clustering`);
  const topology: Topology = { network, clustering: clusterNetwork(network, options.cluster) };
  progress(`${topology.clustering.clusters.size} cluster(s) after ${Date.now() - started} ms`);
  return topology;
}

/** Writes `text` to `file`, creating its folder. */
export function writeOut(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
