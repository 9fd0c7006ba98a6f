/**
 * Public surface of the topology module. Other modules import from here only.
 *
 *   const loaded = loadTopology('../shared/data/ibrl/node.txt');
 *   const topology = createTopology(loaded, { edgeRule: { knn: 4 }, cluster: { maxSize: 64 } });
 *   const clusters: ClusterExport[] = exportClusters(topology);
 *
 * See docs/topology.md.
 */
export type {
  ChangeResult,
  Cluster,
  ClusterExport,
  ClusterOptions,
  Clustering,
  EdgeAttributes,
  EdgeRule,
  ExcludedNode,
  Network,
  NodeAttributes,
  NodeStatus,
  OutlierWarning,
  Position,
  ResolvedEdgeRule,
  SensorGraph,
  SensorNode,
  SourceLocation,
  Topology,
  TopologyChange,
  WeightKind,
} from './types.ts';
export { loadTopology, parseTopologyText, detectFormat } from './loaders/index.ts';
export type { LoadOptions, LoadedNodes, TopologyFormat } from './loaders/index.ts';
export { TopologyInputError, formatIssue } from './input-error.ts';
export type { InputIssue } from './input-error.ts';
export { DEFAULT_PLAUSIBILITY, findImplausible } from './plausibility.ts';
export type { OutlierPolicy, PlausibilityRule } from './plausibility.ts';
export { buildNetwork, networkNodes } from './network.ts';
export { randomNodes } from './random-nodes.ts';
export { DEFAULT_EDGE_RULE, weightOf } from './edge-rules.ts';
export { clusterNetwork, DEFAULT_CLUSTER_OPTIONS, orderedClusters } from './clustering.ts';
export { createTopology } from './topology.ts';
export type { CreateTopologyOptions } from './topology.ts';
export { applyChange } from './changes.ts';
export { exportCluster, exportClusters, topologyVersion } from './export.ts';
export type { ExportOptions } from './export.ts';
export { partitionForCluster } from './partition.ts';
export { compareNodeIds, sortNodeIds } from './node-order.ts';
export { saveSnapshot, loadSnapshot, toSnapshot, fromSnapshot } from './snapshot.ts';
export type { TopologySnapshot } from './snapshot.ts';
