/**
 * clusterNetwork: splits the network into clusters of at most `maxSize` nodes
 * — the unit of model inference and the Kafka partition key. Positions are
 * grouped by seeded k-means (deterministic for a seed); with `louvain` the
 * weighted graph's Louvain communities come first and k-means only bounds
 * their size, so clusters follow the radio graph rather than pure geometry.
 */
import { FRAME_PARTITIONS } from '../common/constants.ts';
import louvainModule from 'graphology-communities-louvain';
import { UserError } from '../common/errors.ts';
import { createRng } from '../common/random.ts';
import { boundedKMeans } from './bounded-kmeans.ts';
import { newClusterId } from './cluster-ids.ts';
import { compareNodeIds, sortNodeIds } from './node-order.ts';
import type { Cluster, ClusterOptions, Clustering, Network, Position, SensorGraph } from './types.ts';

// The package is CommonJS with an ES-style `export default` in its typings:
// at run time the default import is the function itself, under NodeNext typing
// it looks like the module namespace. Accept both.
type LouvainFn = (typeof louvainModule)['default'];
const louvain: LouvainFn = ((louvainModule as unknown as { default?: LouvainFn }).default ??
  louvainModule) as LouvainFn;

export const DEFAULT_CLUSTER_OPTIONS: ClusterOptions = {
  maxSize: 64,
  seed: 1,
  louvain: false,
  maxIterations: 25,
  partitions: FRAME_PARTITIONS,
};

export function resolveClusterOptions(options: Partial<ClusterOptions> = {}): ClusterOptions {
  const resolved = {
    ...DEFAULT_CLUSTER_OPTIONS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  if (!(Number.isInteger(resolved.maxSize) && resolved.maxSize >= 1)) {
    throw new UserError(
      'CLUSTER_OPTIONS',
      `maximum cluster size must be a positive integer (got ${resolved.maxSize})`,
      'pass e.g. --max-cluster-size 64',
    );
  }
  if (!Number.isInteger(resolved.seed))
    throw new UserError('CLUSTER_OPTIONS', `seed must be an integer (got ${resolved.seed})`, 'pass e.g. --seed 1');
  if (!(Number.isInteger(resolved.maxIterations) && resolved.maxIterations >= 1)) {
    throw new UserError(
      'CLUSTER_OPTIONS',
      `k-means iterations must be a positive integer (got ${resolved.maxIterations})`,
    );
  }
  if (!(Number.isInteger(resolved.partitions) && resolved.partitions >= 1)) {
    throw new UserError(
      'CLUSTER_OPTIONS',
      `partitions must be a positive integer (got ${resolved.partitions})`,
      'pass e.g. --partitions 12',
    );
  }
  return resolved;
}

/** Mean position of the given nodes. */
export function centroidOf(graph: SensorGraph, members: Iterable<string>): Position {
  let x = 0;
  let y = 0;
  let z = 0;
  let n = 0;
  let hasZ = false;
  for (const id of members) {
    const a = graph.getNodeAttributes(id);
    x += a.x;
    y += a.y;
    if (a.z !== undefined) hasZ = true;
    z += a.z ?? 0;
    n++;
  }
  if (n === 0) return { x: 0, y: 0 };
  return hasZ ? { x: x / n, y: y / n, z: z / n } : { x: x / n, y: y / n };
}

function startingGroups(network: Network, ids: string[], options: ClusterOptions): string[][] {
  if (!options.louvain || network.graph.size === 0) return [ids];
  const rng = createRng(options.seed);
  const communities = louvain(network.graph, { getEdgeWeight: 'weight', rng: () => rng.next() });
  const groups = new Map<number, string[]>();
  for (const id of ids) {
    const c = communities[id];
    let list = groups.get(c);
    if (!list) groups.set(c, (list = []));
    list.push(id);
  }
  return [...groups.values()];
}

export function clusterNetwork(network: Network, options: Partial<ClusterOptions> = {}): Clustering {
  const resolved = resolveClusterOptions(options);
  const graph = network.graph;
  const ids = sortNodeIds(graph.nodes());
  const index = new Map(ids.map((id, i) => [id, i]));
  const coords = ids.map((id) => {
    const a = graph.getNodeAttributes(id);
    return a.z === undefined ? [a.x, a.y] : [a.x, a.y, a.z];
  });
  // Mixed 2-D / 3-D positions: treat a missing z as 0 so every point has the same length.
  // A loop, not Math.max(...spread): a million arguments overflow the call stack.
  let dims = 0;
  for (const c of coords) if (c.length > dims) dims = c.length;
  for (const c of coords) while (c.length < dims) c.push(0);

  const groups: number[][] = [];
  for (const group of startingGroups(network, ids, resolved)) {
    const indices = group.map((id) => index.get(id)!);
    for (const g of boundedKMeans(coords, indices, {
      maxSize: resolved.maxSize,
      seed: resolved.seed,
      maxIterations: resolved.maxIterations,
    }))
      groups.push(g);
  }
  const memberLists = groups
    .map((g) => g.map((i) => ids[i]).sort(compareNodeIds))
    .sort((a, b) => compareNodeIds(a[0], b[0]));

  const clusters = new Map<string, Cluster>();
  const nodeCluster = new Map<string, string>();
  for (const members of memberLists) {
    const id = newClusterId(members, clusters);
    clusters.set(id, { id, members: new Set(members), centroid: centroidOf(graph, members) });
    for (const m of members) nodeCluster.set(m, id);
  }
  return { options: resolved, clusters, nodeCluster };
}

/** Clusters in canonical order of their ids. */
export function orderedClusters(clustering: Clustering): Cluster[] {
  return [...clustering.clusters.values()].sort((a, b) => compareNodeIds(a.id, b.id));
}
