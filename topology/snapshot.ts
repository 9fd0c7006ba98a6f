/**
 * JSON snapshots of a topology: nodes, the resolved edge rule, the cluster
 * options and every cluster (id, centroid, members). Loading rebuilds the
 * graph from nodes and rule — edge construction is deterministic — and
 * restores the clusters as saved, so ids and exports round-trip exactly.
 */
import { readFileSync, writeFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { UserError } from '../common/errors.ts';
import { describeZodIssues } from '../common/zod-issues.ts';
import { orderedClusters, resolveClusterOptions } from './clustering.ts';
import { toEdgeRule } from './edge-rules.ts';
import { buildNetwork, networkNodes } from './network.ts';
import { sortNodeIds } from './node-order.ts';
import {
  NODE_STATUSES,
  type Cluster,
  type Clustering,
  type ClusterOptions,
  type Network,
  type SensorNode,
  type Topology,
} from './types.ts';

export const SNAPSHOT_KIND = 'wsn-watch/topology';
export const SNAPSHOT_FORMAT = 1;

export const PositionSchema = z.object({
  x: z.number().finite(),
  y: z.number().finite(),
  z: z.number().finite().optional(),
});
export const NodeSchema = PositionSchema.extend({
  id: z.string().min(1),
  modalities: z.array(z.string().min(1)),
  status: z.enum(NODE_STATUSES as [string, ...string[]]),
});
export const ResolvedRuleSchema = z.object({
  knn: z.number().int().positive().nullable(),
  range: z.number().positive().nullable(),
  weight: z.enum(['gaussian', 'inverse']),
  scale: z.number().positive(),
});
export const ClusterOptionsSchema = z.object({
  maxSize: z.number().int().positive(),
  seed: z.number().int(),
  louvain: z.boolean(),
  maxIterations: z.number().int().positive(),
  partitions: z.number().int().positive(),
});
const ExcludedSchema = z.object({
  node: NodeSchema,
  reason: z.string(),
  source: z.object({ file: z.string(), line: z.number().int() }).optional(),
});
export const ClusterRecordSchema = z.object({
  id: z.string().min(1),
  centroid: PositionSchema,
  members: z.array(z.string().min(1)),
});

const SnapshotSchema = z.object({
  kind: z.literal(SNAPSHOT_KIND),
  format: z.literal(SNAPSHOT_FORMAT),
  edgeRule: ResolvedRuleSchema,
  clusterOptions: ClusterOptionsSchema,
  nodes: z.array(NodeSchema),
  excluded: z.array(ExcludedSchema).default([]),
  warnings: z.array(ExcludedSchema).default([]),
  clusters: z.array(ClusterRecordSchema),
});

export type TopologySnapshot = z.infer<typeof SnapshotSchema>;
export type ClusterRecord = z.infer<typeof ClusterRecordSchema>;

export function clusterRecords(clustering: Clustering): ClusterRecord[] {
  return orderedClusters(clustering).map((c) => ({
    id: c.id,
    centroid: { ...c.centroid },
    members: sortNodeIds(c.members),
  }));
}

export function toSnapshot(topology: Topology): TopologySnapshot {
  return {
    kind: SNAPSHOT_KIND,
    format: SNAPSHOT_FORMAT,
    edgeRule: { ...topology.network.rule },
    clusterOptions: { ...topology.clustering.options },
    nodes: networkNodes(topology.network),
    excluded: topology.network.excluded,
    warnings: topology.network.warnings,
    clusters: clusterRecords(topology.clustering),
  };
}

/**
 * Restores clusters as recorded. Every node must be in exactly one cluster
 * and every member must be a node; otherwise the records are rejected.
 */
export function restoreClustering(
  network: Network,
  options: ClusterOptions,
  records: readonly ClusterRecord[],
  origin: string,
): Clustering {
  const clusters = new Map<string, Cluster>();
  const nodeCluster = new Map<string, string>();
  for (const record of records) {
    if (clusters.has(record.id))
      throw new UserError('TOPOLOGY_SNAPSHOT', `${origin}: cluster "${record.id}" appears twice`);
    for (const m of record.members) {
      if (!network.graph.hasNode(m))
        throw new UserError('TOPOLOGY_SNAPSHOT', `${origin}: cluster "${record.id}" lists unknown node "${m}"`);
      if (nodeCluster.has(m))
        throw new UserError(
          'TOPOLOGY_SNAPSHOT',
          `${origin}: node "${m}" is in clusters "${nodeCluster.get(m)}" and "${record.id}"`,
        );
      nodeCluster.set(m, record.id);
    }
    clusters.set(record.id, { id: record.id, members: new Set(record.members), centroid: { ...record.centroid } });
  }
  network.graph.forEachNode((id) => {
    if (!nodeCluster.has(id)) throw new UserError('TOPOLOGY_SNAPSHOT', `${origin}: node "${id}" belongs to no cluster`);
  });
  return { options: resolveClusterOptions(options), clusters, nodeCluster };
}

export function fromSnapshot(snapshot: unknown, origin = 'snapshot'): Topology {
  const parsed = SnapshotSchema.safeParse(snapshot);
  if (!parsed.success) {
    throw new UserError(
      'TOPOLOGY_SNAPSHOT',
      `${origin} is not a topology snapshot: ${describeZodIssues(parsed.error, 10)}`,
      'pass a file written by `wsn-watch topology export --snapshot` or saveSnapshot()',
    );
  }
  const s = parsed.data;
  const network = buildNetwork(s.nodes as SensorNode[], toEdgeRule(s.edgeRule), {
    excluded: s.excluded as Network['excluded'],
    warnings: s.warnings as Network['warnings'],
  });
  return { network, clustering: restoreClustering(network, s.clusterOptions, s.clusters, origin) };
}

/** Writes the snapshot atomically (temp file + rename), so a reader never sees half a file. */
export function saveSnapshot(topology: Topology, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(toSnapshot(topology), null, 1)}\n`);
  renameSync(tmp, file);
}

export function loadSnapshot(file: string): Topology {
  if (!existsSync(file))
    throw new UserError(
      'TOPOLOGY_NOT_FOUND',
      `snapshot ${file} does not exist`,
      'pass the path of a saved topology snapshot',
    );
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UserError('TOPOLOGY_SNAPSHOT', `${file} is not valid JSON: ${(error as Error).message}`);
  }
  return fromSnapshot(doc, file);
}
