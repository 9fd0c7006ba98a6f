/**
 * The topology as records of a compacted topic (`wsn.topology`): per network,
 * one record per node, one per cluster and one meta record. Keys:
 *
 *   <network>/node/<id>      {kind:'node', node, cluster}
 *   <network>/cluster/<id>   {kind:'cluster', id, centroid, partition}
 *   <network>/meta           {kind:'meta', rule, clusterOptions, version, nodes, clusters, updatedAt}
 *
 * Compaction keeps the latest value per key, and a removed node or cluster is
 * written as a tombstone, so reading the topic from the start always yields
 * the current topology. This module only converts between a topology and its
 * records; publisher.ts and follower.ts move them over the transport.
 */
import { z } from 'zod';
import type { Logger } from '../common/log.ts';
import { exportClusters, topologyVersion } from './export.ts';
import { toEdgeRule } from './edge-rules.ts';
import { buildNetwork, networkNodes } from './network.ts';
import { compareNodeIds } from './node-order.ts';
import { partitionForCluster } from './partition.ts';
import { ClusterOptionsSchema, NodeSchema, PositionSchema, ResolvedRuleSchema, restoreClustering } from './snapshot.ts';
import type { ClusterExport, Position, SensorNode, Topology } from './types.ts';

const NodeRecordSchema = z.object({ kind: z.literal('node'), node: NodeSchema, cluster: z.string().min(1) });
const ClusterRecordValueSchema = z.object({
  kind: z.literal('cluster'),
  id: z.string().min(1),
  centroid: PositionSchema,
  partition: z.number().int().nonnegative(),
});
const MetaRecordSchema = z.object({
  kind: z.literal('meta'),
  rule: ResolvedRuleSchema,
  clusterOptions: ClusterOptionsSchema,
  version: z.string(),
  nodes: z.number().int().nonnegative(),
  clusters: z.number().int().nonnegative(),
  updatedAt: z.string(),
});
const TopologyRecordSchema = z.discriminatedUnion('kind', [
  NodeRecordSchema,
  ClusterRecordValueSchema,
  MetaRecordSchema,
]);

type NodeRecord = z.infer<typeof NodeRecordSchema>;
type ClusterRecordValue = z.infer<typeof ClusterRecordValueSchema>;
export type MetaRecord = z.infer<typeof MetaRecordSchema>;
export type TopologyRecord = z.infer<typeof TopologyRecordSchema>;

/** One record to write: a value (JSON text), or null for a tombstone. */
export interface TopologyRecordEntry {
  key: string;
  value: string | null;
}

/** The key of a network's meta record, written last: it marks a change complete. */
export const metaKey = (network: string): string => `${network}/meta`;

/**
 * Parses one record value; a malformed one (not JSON, wrong shape) is logged
 * and treated as absent, so a bad message never stops a follower.
 */
export function parseTopologyRecord(key: string, text: string, logger?: Logger): TopologyRecord | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    logger?.warn({ key }, 'topology record is not JSON; ignored until it is replaced');
    return null;
  }
  const parsed = TopologyRecordSchema.safeParse(doc);
  if (!parsed.success) {
    logger?.warn(
      { key, problems: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`) },
      'topology record has the wrong shape; ignored until it is replaced',
    );
    return null;
  }
  return parsed.data;
}

/** The network's meta record among `records`, or null when there is none (or it is malformed). */
function metaOf(network: string, records: ReadonlyMap<string, string>, logger?: Logger): MetaRecord | null {
  const text = records.get(metaKey(network));
  const meta = text === undefined ? null : parseTopologyRecord(metaKey(network), text, logger);
  return meta?.kind === 'meta' ? meta : null;
}

/** The version the network's meta record announces, or null when there is none (or it is malformed). */
export function announcedVersion(
  network: string,
  records: ReadonlyMap<string, string>,
  logger?: Logger,
): string | null {
  return metaOf(network, records, logger)?.version ?? null;
}

/** The records that describe a topology, by key, values as JSON text (meta excluded: it goes last). */
export function topologyRecords(network: string, topology: Topology): Map<string, string> {
  const out = new Map<string, string>();
  const { clustering } = topology;
  for (const node of networkNodes(topology.network)) {
    const record: NodeRecord = { kind: 'node', node, cluster: clustering.nodeCluster.get(node.id)! };
    out.set(`${network}/node/${node.id}`, JSON.stringify(record));
  }
  for (const cluster of clustering.clusters.values()) {
    const record: ClusterRecordValue = {
      kind: 'cluster',
      id: cluster.id,
      centroid: cluster.centroid,
      partition: partitionForCluster(cluster.id, clustering.options.partitions),
    };
    out.set(`${network}/cluster/${cluster.id}`, JSON.stringify(record));
  }
  return out;
}

/** The meta record of a topology: its version and sizes, which a follower checks the other records against. */
export function metaRecord(topology: Topology, updatedAt = new Date()): MetaRecord {
  return {
    kind: 'meta',
    rule: topology.network.rule,
    clusterOptions: topology.clustering.options,
    version: topologyVersion(topology, exportClusters(topology, { denseLimit: 0 })),
    nodes: topology.network.graph.order,
    clusters: topology.clustering.clusters.size,
    updatedAt: updatedAt.toISOString(),
  };
}

/**
 * What to write to go from the records `published` to the topology `current`:
 * tombstones for keys that are gone, then the records that are new or differ,
 * both in key order, then meta.
 */
export function topologyDelta(
  network: string,
  published: ReadonlyMap<string, string>,
  current: ReadonlyMap<string, string>,
  meta: MetaRecord,
): { entries: TopologyRecordEntry[]; tombstones: number } {
  const entries: TopologyRecordEntry[] = [];
  for (const key of [...published.keys()].sort()) if (!current.has(key)) entries.push({ key, value: null });
  const tombstones = entries.length;
  for (const [key, value] of [...current].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (published.get(key) !== value) entries.push({ key, value });
  }
  entries.push({ key: metaKey(network), value: JSON.stringify(meta) });
  return { entries, tombstones };
}

/** Rebuilds a topology from records (keys of other networks are skipped); null when incomplete or inconsistent. */
export function topologyFromRecords(
  network: string,
  records: ReadonlyMap<string, string>,
  logger?: Logger,
): Topology | null {
  return exportedTopologyFromRecords(network, records, logger)?.topology ?? null;
}

/**
 * topologyFromRecords with the cluster exports its version check computed
 * (`denseLimit` 0, canonical order), so a follower's listener need not export
 * again: at 100,000 nodes that is about 0.8 s of CPU per version.
 */
export function exportedTopologyFromRecords(
  network: string,
  records: ReadonlyMap<string, string>,
  logger?: Logger,
): { topology: Topology; clusters: ClusterExport[] } | null {
  const meta = metaOf(network, records, logger);
  if (meta === null) return null;
  const nodes: SensorNode[] = [];
  const members = new Map<string, string[]>();
  const centroids = new Map<string, Position>();
  for (const [key, text] of records) {
    if (!key.startsWith(`${network}/`) || key === metaKey(network)) continue;
    const record = parseTopologyRecord(key, text, logger);
    if (record === null) continue;
    if (record.kind === 'node') {
      nodes.push(record.node as SensorNode);
      const list = members.get(record.cluster) ?? [];
      list.push(record.node.id);
      members.set(record.cluster, list);
    } else if (record.kind === 'cluster') centroids.set(record.id, record.centroid);
  }
  if (nodes.length !== meta.nodes || centroids.size !== meta.clusters) return null;
  try {
    const net = buildNetwork(nodes, toEdgeRule(meta.rule));
    const clusterList = [...centroids].map(([id, centroid]) => ({
      id,
      centroid,
      members: (members.get(id) ?? []).sort(compareNodeIds),
    }));
    const clustering = restoreClustering(net, meta.clusterOptions, clusterList, `${network} on Kafka`);
    const topology: Topology = { network: net, clustering };
    const clusters = exportClusters(topology, { denseLimit: 0 });
    return topologyVersion(topology, clusters) === meta.version ? { topology, clusters } : null;
  } catch (error) {
    logger?.debug({ err: error }, 'topology records not yet consistent');
    return null;
  }
}
