/**
 * Draws the network as SVG: nodes as circles coloured by cluster, edges as
 * lines (bridges dashed), node labels for small networks, a legend with each
 * cluster's size and partition, and the excluded nodes listed underneath.
 */
import { orderedClusters } from './clustering.ts';
import { partitionForCluster } from './partition.ts';
import type { Topology } from './types.ts';

export interface SvgOptions {
  width?: number;
  height?: number;
  title?: string;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Well-separated colours: golden-angle hues, alternating lightness. */
export function clusterColour(index: number): string {
  const hue = Math.round((index * 137.508) % 360);
  const light = index % 2 === 0 ? 45 : 60;
  return `hsl(${hue}, 70%, ${light}%)`;
}

/** Where everything goes: the plot's scale and origin, the legend column, the sizes. */
interface SvgLayout {
  clusters: ReturnType<typeof orderedClusters>;
  colour: Map<string, string>;
  width: number;
  height: number;
  plotWidth: number;
  plotHeight: number;
  margin: number;
  small: boolean;
  radius: number;
  px: (x: number) => number;
  py: (y: number) => number;
}

function layoutSvg(topology: Topology, options: SvgOptions): SvgLayout {
  const { graph } = topology.network;
  const clusters = orderedClusters(topology.clustering);
  const colour = new Map(clusters.map((c, i) => [c.id, clusterColour(i)]));
  const legendWidth = 210;
  const width = options.width ?? 1000;
  const plotWidth = width - legendWidth;
  const margin = 30;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  graph.forEachNode((_id, a) => {
    minX = Math.min(minX, a.x);
    maxX = Math.max(maxX, a.x);
    minY = Math.min(minY, a.y);
    maxY = Math.max(maxY, a.y);
  });
  if (graph.order === 0) minX = minY = maxX = maxY = 0;
  const spanX = Math.max(maxX - minX, 1e-9);
  const spanY = Math.max(maxY - minY, 1e-9);
  const scale = Math.min(
    (plotWidth - 2 * margin) / spanX,
    (options.height ?? 0) > 0 ? (options.height! - 2 * margin - 40) / spanY : Infinity,
  );
  const plotHeight = Math.max(spanY * scale + 2 * margin, 200);
  const excluded = topology.network.excluded;
  const legendRows = clusters.length + 3;
  const height = options.height ?? Math.max(plotHeight + 40 + excluded.length * 16 + 20, legendRows * 16 + 60);
  // Floor-plan y grows upwards; SVG y grows downwards.
  const px = (x: number): number => margin + (x - minX) * scale;
  const py = (y: number): number => 40 + margin + (maxY - y) * scale;
  const small = graph.order <= 200;
  const radius = small ? 7 : Math.max(1.2, Math.min(4, 400 / Math.sqrt(graph.order)));
  return { clusters, colour, width, height, plotWidth, plotHeight, margin, small, radius, px, py };
}

function drawHeader(out: string[], topology: Topology, options: SvgOptions, layout: SvgLayout): void {
  const { graph } = topology.network;
  const { width, height, margin, clusters } = layout;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.ceil(height)}" viewBox="0 0 ${width} ${Math.ceil(height)}" font-family="sans-serif">`,
  );
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  const title = options.title ?? 'sensor network topology';
  out.push(`<text x="${margin}" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`);
  out.push(
    `<text x="${margin}" y="40" font-size="11" fill="#555">${graph.order} nodes, ${graph.size} edges, ${clusters.length} clusters (dashed = bridge edge joining islands)</text>`,
  );
}

function drawEdges(out: string[], topology: Topology, { small, px, py }: SvgLayout): void {
  const { graph } = topology.network;
  out.push(`<g stroke="#999" stroke-width="${small ? 1.2 : 0.4}" stroke-opacity="0.8">`);
  graph.forEachEdge((_e, a, s, t) => {
    const sa = graph.getNodeAttributes(s);
    const ta = graph.getNodeAttributes(t);
    const dash = a.bridge ? ' stroke-dasharray="4 3" stroke="#d33"' : '';
    out.push(
      `<line x1="${px(sa.x).toFixed(1)}" y1="${py(sa.y).toFixed(1)}" x2="${px(ta.x).toFixed(1)}" y2="${py(ta.y).toFixed(1)}"${dash}/>`,
    );
  });
  out.push('</g>');
}

/** Circles coloured by cluster, and for small networks the node ids above them. */
function drawNodes(out: string[], topology: Topology, { colour, small, radius, px, py }: SvgLayout): void {
  const { graph } = topology.network;
  out.push('<g stroke="#222" stroke-width="0.6">');
  graph.forEachNode((id, a) => {
    const fill = colour.get(topology.clustering.nodeCluster.get(id) ?? '') ?? '#ccc';
    const silent = a.status === 'silent' ? ' fill-opacity="0.35" stroke-dasharray="2 2"' : '';
    out.push(
      `<circle cx="${px(a.x).toFixed(1)}" cy="${py(a.y).toFixed(1)}" r="${radius}" fill="${fill}"${silent}><title>${escapeXml(`node ${id} (${a.x}, ${a.y}) ${a.status}, cluster ${topology.clustering.nodeCluster.get(id)}`)}</title></circle>`,
    );
  });
  out.push('</g>');
  if (small) {
    out.push('<g font-size="9" text-anchor="middle" fill="#000">');
    graph.forEachNode((id, a) =>
      out.push(`<text x="${px(a.x).toFixed(1)}" y="${(py(a.y) - radius - 2).toFixed(1)}">${escapeXml(id)}</text>`),
    );
    out.push('</g>');
  }
}

/** One legend row per cluster (the first 60), then how many more. */
function drawLegend(out: string[], topology: Topology, { clusters, colour, plotWidth }: SvgLayout): void {
  const lx = plotWidth + 10;
  out.push(`<g font-size="12"><text x="${lx}" y="60" font-weight="bold">cluster (nodes, partition)</text>`);
  clusters.forEach((c, i) => {
    const y = 80 + i * 16;
    if (i >= 60) return;
    out.push(
      `<circle cx="${lx + 6}" cy="${y - 4}" r="5" fill="${colour.get(c.id)}" stroke="#222" stroke-width="0.6"/>`,
    );
    out.push(
      `<text x="${lx + 16}" y="${y}">${escapeXml(c.id)} (${c.members.size}, p${partitionForCluster(c.id, topology.clustering.options.partitions)})</text>`,
    );
  });
  if (clusters.length > 60) out.push(`<text x="${lx}" y="${80 + 60 * 16}">… ${clusters.length - 60} more</text>`);
  out.push('</g>');
}

function drawExcluded(out: string[], topology: Topology, { plotHeight, margin }: SvgLayout): void {
  const excluded = topology.network.excluded;
  if (excluded.length === 0) return;
  const y0 = plotHeight + 50;
  out.push(
    `<g font-size="11" fill="#a00"><text x="${margin}" y="${y0}" font-weight="bold">excluded (not drawn):</text>`,
  );
  excluded.forEach((e, i) => {
    const where = e.source ? ` line ${e.source.line}` : '';
    out.push(
      `<text x="${margin}" y="${y0 + 16 * (i + 1)}">node ${escapeXml(e.node.id)}${where}: ${escapeXml(e.reason)}</text>`,
    );
  });
  out.push('</g>');
}

export function renderSvg(topology: Topology, options: SvgOptions = {}): string {
  const layout = layoutSvg(topology, options);
  const out: string[] = [];
  drawHeader(out, topology, options, layout);
  drawEdges(out, topology, layout);
  drawNodes(out, topology, layout);
  drawLegend(out, topology, layout);
  drawExcluded(out, topology, layout);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
