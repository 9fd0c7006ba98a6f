/** createTopology: the one call from loaded nodes to a clustered network. */
import { DEFAULT_EDGE_RULE } from './edge-rules.ts';
import { clusterNetwork } from './clustering.ts';
import { buildNetwork } from './network.ts';
import type { LoadedNodes } from './loaders/index.ts';
import type { ClusterOptions, EdgeRule, SensorNode, Topology } from './types.ts';

export interface CreateTopologyOptions {
  edgeRule?: EdgeRule;
  cluster?: Partial<ClusterOptions>;
}

export function createTopology(
  input: LoadedNodes | readonly SensorNode[],
  options: CreateTopologyOptions = {},
): Topology {
  const loaded = Array.isArray(input)
    ? { nodes: input as readonly SensorNode[], excluded: [], warnings: [] }
    : (input as LoadedNodes);
  const network = buildNetwork(loaded.nodes, options.edgeRule ?? DEFAULT_EDGE_RULE, {
    excluded: loaded.excluded,
    warnings: loaded.warnings,
  });
  return { network, clustering: clusterNetwork(network, options.cluster) };
}
