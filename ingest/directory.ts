import { createHash } from 'node:crypto';
import type { Modality, NodeId } from '../common/types.ts';
import { compareIds } from '../common/ids.ts';

export { compareIds };

/**
 * What ingest needs to know about the network: which nodes exist, what each
 * measures, and which cluster each belongs to. Built from the topology module's
 * clusters (see topology-source.ts); kept as plain data so that tests and the
 * simulator can build one without graphology or Kafka.
 */
export interface NodeInfo {
  id: NodeId;
  /** Modalities the node reports; an empty list accepts any modality. */
  modalities: Modality[];
}

export interface ClusterInfo {
  id: string;
  nodes: NodeInfo[];
}

export interface NetworkLayout {
  network: string;
  /** Hash of the topology version; copied into every frame. */
  version: string;
  clusters: ClusterInfo[];
}

interface NodeEntry {
  cluster: string;
  /** Null: an open list (any modality). */
  modalities: Set<Modality> | null;
  /** The same modalities in code-unit order, one shared array (frames list them in this order every tick). */
  sorted: readonly Modality[] | null;
}

export class NodeDirectory {
  readonly network: string;
  readonly version: string;
  /** Clusters sorted by id, each with its nodes sorted by id, so frames list nodes in a stable order. */
  readonly clusters: ReadonlyArray<{ id: string; nodes: NodeId[] }>;
  private readonly byNode = new Map<NodeId, NodeEntry>();

  constructor(layout: NetworkLayout) {
    this.network = layout.network;
    this.version = layout.version;
    const clusters = [...layout.clusters].sort((a, b) => compareIds(a.id, b.id));
    this.clusters = clusters.map((c) => ({ id: c.id, nodes: c.nodes.map((n) => n.id).sort(compareIds) }));
    for (const cluster of clusters) {
      for (const node of cluster.nodes) {
        if (this.byNode.has(node.id))
          throw new Error(
            `node ${node.id} is in two clusters (${this.byNode.get(node.id)?.cluster} and ${cluster.id})`,
          );
        const modalities = node.modalities.length > 0 ? new Set(node.modalities) : null;
        this.byNode.set(node.id, {
          cluster: cluster.id,
          modalities,
          sorted: modalities ? Object.freeze([...modalities].sort()) : null,
        });
      }
    }
  }

  has(node: NodeId): boolean {
    return this.byNode.has(node);
  }

  clusterOf(node: NodeId): string | undefined {
    return this.byNode.get(node)?.cluster;
  }

  modalitiesOf(node: NodeId): Modality[] | null {
    const m = this.byNode.get(node)?.modalities;
    return m ? [...m] : null;
  }

  /** The node's modalities in code-unit order, without a copy (null for an open list or an unknown node). */
  sortedModalitiesOf(node: NodeId): readonly Modality[] | null {
    return this.byNode.get(node)?.sorted ?? null;
  }

  /**
   * Why `node` cannot report every modality of `values` here (unknown node or
   * unmeasured modality), or null when it can: one lookup for the checks of a reading.
   */
  unknownIn(node: NodeId, values: Record<Modality, number>): { node: true } | { modality: Modality } | null {
    const info = this.byNode.get(node);
    if (info === undefined) return { node: true };
    if (info.modalities === null) return null;
    for (const modality in values) if (!info.modalities.has(modality)) return { modality };
    return null;
  }

  get nodeCount(): number {
    return this.byNode.size;
  }
}

/** A version hash of a layout, for layouts that do not carry the topology's own. */
export function layoutVersion(layout: Omit<NetworkLayout, 'version'>): string {
  const canonical = JSON.stringify(
    [...layout.clusters]
      .sort((a, b) => compareIds(a.id, b.id))
      .map((c) => [
        c.id,
        [...c.nodes].sort((a, b) => compareIds(a.id, b.id)).map((n) => [n.id, [...n.modalities].sort()]),
      ]),
  );
  return createHash('sha256').update(layout.network).update(canonical).digest('hex').slice(0, 16);
}
