/**
 * The vocabulary of the topology module: sensor nodes, edge rules, clusters
 * and what a model needs per cluster. Kept apart from the algorithms so that
 * other modules can import the types without pulling in graphology or Kafka.
 */
import type { UndirectedGraph } from 'graphology';
import type { Modality, NodeId } from '../common/types.ts';

/** Whether a node takes part: `silent` nodes stay in the graph and their cluster; `removed` ones do not. */
export type NodeStatus = 'active' | 'silent' | 'removed';

export const NODE_STATUSES: readonly NodeStatus[] = ['active', 'silent', 'removed'];

/** Position on the floor plan (any consistent unit, e.g. metres); z is optional (0 when absent). */
export interface Position {
  x: number;
  y: number;
  z?: number;
}

/** One sensor node as loaded from a file or announced at run time. */
export interface SensorNode extends Position {
  id: NodeId;
  modalities: Modality[];
  status: NodeStatus;
}

/** Where a loaded node came from, so later reports can point at the line. */
export interface SourceLocation {
  file: string;
  line: number;
}

/** A node that was read but left out of the network, with the reason (never dropped silently). */
export interface ExcludedNode {
  node: SensorNode;
  reason: string;
  source?: SourceLocation;
}

/** A node outside the plausibility bound that was kept because the user asked for it. */
export interface OutlierWarning {
  node: SensorNode;
  reason: string;
  source?: SourceLocation;
}

/** Decreasing function of distance that gives an edge its weight. */
export type WeightKind = 'gaussian' | 'inverse';

/**
 * How edges are derived from positions.
 * - `knn` only: each node links to its k nearest nodes (the union over both ends, so the graph is undirected).
 * - `range` only: every pair within radio range.
 * - both: the k nearest nodes *within* radio range (a radio cannot reach further; k caps the degree).
 * Islands left by the rule are joined by minimum-spanning edges (marked `bridge`).
 */
export interface EdgeRule {
  knn?: number;
  range?: number;
  /** Weight function; default gaussian: w = exp(-(d / scale)^2 / 2). inverse: w = 1 / (1 + d / scale). */
  weight?: WeightKind;
  /** Distance scale of the weight; default: median length of the rule's edges, fixed when the network is first built. */
  scale?: number;
}

/** An edge rule with every default resolved, as stored in snapshots so a rebuild gives the same weights. */
export interface ResolvedEdgeRule {
  knn: number | null;
  range: number | null;
  weight: WeightKind;
  scale: number;
}

export interface NodeAttributes {
  x: number;
  y: number;
  z?: number;
  modalities: Modality[];
  status: NodeStatus;
}

export interface EdgeAttributes {
  distance: number;
  weight: number;
  /** True when the edge was added to join islands, not by the rule itself. */
  bridge: boolean;
}

export type SensorGraph = UndirectedGraph<NodeAttributes, EdgeAttributes>;

/** The sensor network: a graphology graph plus the rule that produced its edges. */
export interface Network {
  graph: SensorGraph;
  rule: ResolvedEdgeRule;
  /** Connected components the rule alone left (1 = the rule connected everything). */
  ruleComponents: number;
  /** Nodes read from input but left out, with reasons. */
  excluded: ExcludedNode[];
  /** Implausible nodes kept on request. */
  warnings: OutlierWarning[];
}

export interface ClusterOptions {
  /** Upper bound on nodes per cluster (default 64). */
  maxSize: number;
  /** Seed of k-means initialisation and Louvain (default 1). */
  seed: number;
  /** Start from Louvain communities of the weighted graph, then bound them by k-means. */
  louvain: boolean;
  /** k-means iteration limit per run (default 25). */
  maxIterations: number;
  /** Kafka partitions of the frame topic, for the cluster → partition mapping (default 12). */
  partitions: number;
}

export interface Cluster {
  /** Stable id: fixed when the cluster is created and kept while its members change. */
  id: string;
  members: Set<NodeId>;
  centroid: Position;
}

export interface Clustering {
  options: ClusterOptions;
  clusters: Map<string, Cluster>;
  nodeCluster: Map<NodeId, string>;
}

/** A network together with its clusters: the state the CLI, snapshots and Kafka carry. */
export interface Topology {
  network: Network;
  clustering: Clustering;
}

/** What a per-cluster model needs. Index i in every array refers to `nodes[i]`. */
export interface ClusterExport {
  id: string;
  /** Kafka partition of the cluster on a topic with `options.partitions` partitions. */
  partition: number;
  /** Node ids in canonical order (numeric ids numerically, others by code unit). */
  nodes: NodeId[];
  /** [x, y] or [x, y, z] per node. */
  positions: number[][];
  modalities: Modality[][];
  statuses: NodeStatus[];
  /** Dense N×N weights, 0 = no edge, no self-loops; null when N exceeds the dense limit (use `edges`). */
  adjacency: number[][] | null;
  /** Sparse form of the same edges: [i, j, weight] with i < j. */
  edges: Array<[number, number, number]>;
  /** Neighbour indices per node, ascending. */
  neighbours: number[][];
  /** sha256 (hex) of the canonical form of nodes, positions, modalities and edges. */
  version: string;
}

/** A change at run time. */
export type TopologyChange =
  | { kind: 'join'; node: SensorNode }
  | { kind: 'leave'; id: NodeId }
  | { kind: 'move'; id: NodeId; position: Position }
  | { kind: 'status'; id: NodeId; status: Exclude<NodeStatus, 'removed'> };

/** What a change did to the clusters. */
export interface ChangeResult {
  /** Nodes whose cluster changed (not counting a joining node's first assignment). */
  moved: NodeId[];
  createdClusters: string[];
  removedClusters: string[];
  /** Clusters whose export (and version) may have changed. */
  touchedClusters: string[];
}
