/** A plain-text summary of a topology for people (the `topology show` output). */
import { exportClusters, topologyVersion } from './export.ts';
import type { ClusterExport, Topology } from './types.ts';

export interface DegreeStats {
  min: number;
  mean: number;
  median: number;
  max: number;
}

export function degreeStats(topology: Topology): DegreeStats {
  const degrees = topology.network.graph.mapNodes((id) => topology.network.graph.degree(id)).sort((a, b) => a - b);
  if (degrees.length === 0) return { min: 0, mean: 0, median: 0, max: 0 };
  const mid = Math.floor(degrees.length / 2);
  return {
    min: degrees[0],
    mean: degrees.reduce((s, d) => s + d, 0) / degrees.length,
    median: degrees.length % 2 ? degrees[mid] : (degrees[mid - 1] + degrees[mid]) / 2,
    max: degrees[degrees.length - 1],
  };
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function memberList(ids: string[], limit = 16): string {
  return ids.length <= limit ? ids.join(' ') : `${ids.slice(0, limit).join(' ')} … (+${ids.length - limit})`;
}

export interface SummaryOptions {
  /** List every cluster (default when there are at most 40). */
  listClusters?: boolean;
}

export function summarize(
  topology: Topology,
  options: SummaryOptions = {},
  exports: ClusterExport[] = exportClusters(topology, { denseLimit: 0 }),
): string {
  const { network, clustering } = topology;
  const { graph, rule } = network;
  const lines: string[] = [];
  let silent = 0;
  graph.forEachNode((_id, a) => {
    if (a.status === 'silent') silent++;
  });
  let bridges = 0;
  graph.forEachEdge((_e, a) => {
    if (a.bridge) bridges++;
  });
  const ruleText = [
    rule.knn !== null ? `k nearest = ${rule.knn}` : null,
    rule.range !== null ? `radio range = ${rule.range}` : null,
  ]
    .filter(Boolean)
    .join(' within ');
  const weightText = rule.weight === 'gaussian' ? `exp(-(d/${fmt(rule.scale)})²/2)` : `1/(1 + d/${fmt(rule.scale)})`;
  lines.push(`nodes:     ${graph.order} (${graph.order - silent} active, ${silent} silent)`);
  lines.push(`edges:     ${graph.size} (${ruleText}; weight ${weightText})`);
  lines.push(
    `connected: ${network.ruleComponents <= 1 ? 'yes, by the rule alone' : `yes, ${bridges} minimum-spanning bridge edge(s) join the ${network.ruleComponents} islands the rule left`}`,
  );
  const d = degreeStats(topology);
  lines.push(`degree:    min ${d.min}, mean ${fmt(d.mean)}, median ${fmt(d.median)}, max ${d.max}`);
  const sizes = exports.map((c) => c.nodes.length).sort((a, b) => a - b);
  const o = clustering.options;
  lines.push(
    `clusters:  ${exports.length} (${o.louvain ? 'Louvain + k-means' : 'k-means'}, max size ${o.maxSize}, seed ${o.seed}, ${o.partitions} partitions); sizes min ${sizes[0] ?? 0}, median ${sizes[Math.floor(sizes.length / 2)] ?? 0}, max ${sizes[sizes.length - 1] ?? 0}`,
  );
  if (options.listClusters ?? exports.length <= 40) {
    const width = Math.max(...exports.map((c) => c.id.length), 7);
    for (const c of exports) {
      lines.push(
        `  ${c.id.padEnd(width)}  ${String(c.nodes.length).padStart(4)} nodes  partition ${String(c.partition).padStart(2)}  version ${c.version.slice(0, 12)}  ${memberList(c.nodes)}`,
      );
    }
  }
  if (network.excluded.length === 0) lines.push('excluded:  none');
  else {
    lines.push(`excluded:  ${network.excluded.length}`);
    for (const e of network.excluded) {
      const where = e.source ? `${e.source.file}:${e.source.line}` : '(no source)';
      lines.push(
        `  node ${e.node.id} at (${e.node.x}, ${e.node.y}${e.node.z !== undefined ? `, ${e.node.z}` : ''}) ${where}: ${e.reason}`,
      );
    }
  }
  for (const w of network.warnings) {
    const where = w.source ? `${w.source.file}:${w.source.line}` : '(no source)';
    lines.push(`warning:   node ${w.node.id} kept although ${where}: ${w.reason}`);
  }
  lines.push(`version:   ${topologyVersion(topology, exports)}`);
  return `${lines.join('\n')}\n`;
}
