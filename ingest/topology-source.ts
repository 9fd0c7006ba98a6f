import { createTopology, exportClusters, loadTopology, topologyVersion, type Topology } from '../topology/index.ts';
import type { NetworkLayout } from './directory.ts';

/**
 * The bridge from the topology module to what ingest needs (nodes, their
 * modalities, their cluster). Ingest never builds clusters itself: it takes
 * them from a topology, so its frames line up with the detector's models.
 */
export function layoutFromTopology(network: string, topology: Topology): NetworkLayout {
  const clusters = exportClusters(topology, { denseLimit: 0 });
  const graph = topology.network.graph;
  return {
    network,
    version: topologyVersion(topology, clusters),
    clusters: clusters.map((c) => ({
      id: c.id,
      nodes: c.nodes
        .filter((id) => graph.hasNode(id) && graph.getNodeAttribute(id, 'status') !== 'removed')
        .map((id, i) => ({ id, modalities: c.modalities[i] ?? [] })),
    })),
  };
}

/** Loads a node position file (IBRL node.txt, .json, .csv) and clusters it with the topology defaults. */
export function layoutFromFile(network: string, file: string): NetworkLayout {
  return layoutFromTopology(network, createTopology(loadTopology(file)));
}
