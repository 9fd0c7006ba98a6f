/**
 * A layout for networks whose positions the dashboard was not given: each
 * cluster a square block of nodes, blocks side by side. Better than an empty
 * map; the real floor plan replaces it as soon as a topology is known.
 */
import type { ClusterScore } from '../../common/types.ts';
import type { NodePlacement, TopologyView } from '../../store/results.ts';

const naturalOrder = (a: string, b: string): number => a.localeCompare(b, undefined, { numeric: true });

export function gridLayout(network: string, scores: ClusterScore[]): TopologyView {
  const nodes: NodePlacement[] = [];
  let originX = 0;
  for (const score of [...scores].sort((a, b) => naturalOrder(a.cluster, b.cluster))) {
    const members = score.nodes.map((n) => n.node).sort(naturalOrder);
    const side = Math.max(1, Math.ceil(Math.sqrt(members.length)));
    members.forEach((node, i) => {
      nodes.push({ node, cluster: score.cluster, x: originX + (i % side), y: Math.floor(i / side) });
    });
    // One empty column between blocks keeps the cluster areas apart.
    originX += side + 1;
  }
  return { network, nodes, edges: [] };
}
