// @ts-check
// The topology map: nodes at their floor-plan positions, coloured by anomaly
// probability, clusters as tinted areas behind them. Plain SVG, no framework.

const SVG_NS = 'http://www.w3.org/2000/svg';
const WIDTH = 1000;
const NODE_RADIUS = 15;
const MARGIN = 48;

/** Cluster colours; chosen away from green/amber/red, which encode probability. */
const CLUSTER_COLOURS = ['#5794f2', '#b877d9', '#ff7eb6', '#8fa3bf', '#4fc1e9', '#a5a6f6', '#c9a66b', '#e0b8f5'];

/** @param {string} tag @param {Record<string, string | number>} [attrs] */
export function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

/** @param {string[]} clusters */
export function clusterColours(clusters) {
  /** @type {Map<string, string>} */
  const colours = new Map();
  [...clusters]
    .sort(naturalCompare)
    .forEach((cluster, i) => colours.set(cluster, CLUSTER_COLOURS[i % CLUSTER_COLOURS.length]));
  return colours;
}

/** @param {string} a @param {string} b */
export function naturalCompare(a, b) {
  return a.localeCompare(b, undefined, { numeric: true });
}

/** @param {string} hex */
function rgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/**
 * A node's state on the map: anomalous when the detector says so (isAnomaly, judged with the threshold
 * it runs with); otherwise at most 'warn', from the probability against the display threshold.
 * @param {{probability: number, isAnomaly?: boolean}} score @param {number} threshold
 * @returns {'ok' | 'warn' | 'anomalous'}
 */
export function nodeState(score, threshold) {
  if (score.isAnomaly) return 'anomalous';
  return probabilityState(score.probability, threshold) === 'ok' ? 'ok' : 'warn';
}

/**
 * Green below half the threshold, amber at the threshold, red at 1.
 * @param {number} p @param {number} threshold
 */
export function probabilityColour(p, threshold) {
  const stops = [
    [0, rgb('#3fb950')],
    [threshold * 0.6, rgb('#3fb950')],
    [threshold, rgb('#d29922')],
    [1, rgb('#f85149')],
  ];
  const x = Math.min(1, Math.max(0, p));
  for (let i = 1; i < stops.length; i++) {
    const [p0, c0] = /** @type {[number, number[]]} */ (stops[i - 1]);
    const [p1, c1] = /** @type {[number, number[]]} */ (stops[i]);
    if (x <= p1) {
      const t = p1 === p0 ? 1 : (x - p0) / (p1 - p0);
      const c = c0.map((v, k) => Math.round(v + (c1[k] - v) * t));
      return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
    }
  }
  return '#f85149';
}

/**
 * @param {number} p @param {number} threshold
 * @returns {'ok' | 'warn' | 'anomalous'}
 */
export function probabilityState(p, threshold) {
  if (p >= threshold) return 'anomalous';
  if (p >= threshold * 0.6) return 'warn';
  return 'ok';
}

/** Andrew's monotone chain. @param {Array<[number, number]>} points */
function convexHull(points) {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  /** @param {number[]} o @param {number[]} a @param {number[]} b */
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  /** @type {Array<[number, number]>} */ const lower = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  /** @type {Array<[number, number]>} */ const upper = [];
  for (const p of [...pts].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/**
 * @typedef {{node: string, cluster: string, x: number, y: number}} MapNode
 * @typedef {{probability: number, isAnomaly: boolean}} NodeScore
 */

/**
 * Redraws the map.
 * @param {SVGSVGElement} root
 * @param {{ topology: { nodes: Array<MapNode>, edges: Array<[string, string]> },
 *           clusters: Array<{cluster: string, probability: number, nodes: Array<{node: string, probability: number, isAnomaly: boolean}>}>,
 *           threshold: number,
 *           silences?: Array<{id: string, node: string, reason: string}> }} overview
 * @param {string | null} selected
 * @param {(node: string) => void} onSelect
 */
export function renderMap(root, overview, selected, onSelect) {
  const { topology, clusters, threshold } = overview;
  const nodes = topology.nodes;
  root.replaceChildren();
  if (nodes.length === 0) return;

  const { height, at } = mapLayout(nodes);
  root.setAttribute('viewBox', `0 0 ${WIDTH} ${height}`);

  /** @type {Map<string, NodeScore>} */
  const scoreOf = new Map();
  for (const c of clusters) for (const n of c.nodes) scoreOf.set(n.node, n);
  const colours = clusterColours([...new Set(nodes.map((n) => n.cluster))]);
  const { areas, labels } = clusterShapes(nodes, at, colours);
  const edges = svg('g', { class: 'edges' });
  for (const [a, b] of topology.edges) {
    const pa = at.get(a),
      pb = at.get(b);
    if (pa && pb) edges.append(svg('line', { class: 'edge', x1: pa[0], y1: pa[1], x2: pb[0], y2: pb[1] }));
  }

  // Nodes under a maintenance silence: still coloured by their score, with a badge.
  /** @type {Map<string, any>} */
  const silenced = new Map();
  for (const silence of overview.silences ?? []) if (!silenced.has(silence.node)) silenced.set(silence.node, silence);
  const dots = svg('g', { class: 'nodes' });
  for (const n of [...nodes].sort(
    (a, b) => (scoreOf.get(a.node)?.probability ?? 0) - (scoreOf.get(b.node)?.probability ?? 0),
  )) {
    const g = nodeMark(n, /** @type {[number, number]} */ (at.get(n.node)), scoreOf.get(n.node), {
      threshold,
      selected: n.node === selected,
      silence: silenced.get(n.node),
      stroke: colours.get(n.cluster) ?? '#8b96a5',
    });
    g.addEventListener('click', () => onSelect(n.node));
    g.addEventListener('keydown', (event) => {
      if (/** @type {KeyboardEvent} */ (event).key === 'Enter') onSelect(n.node);
    });
    dots.append(g);
  }
  root.append(areas, edges, labels, dots);
}

/**
 * The floor plan scaled into the map, aspect kept: the map's height and each node's point.
 * @param {MapNode[]} nodes
 */
function mapLayout(nodes) {
  const xs = nodes.map((n) => n.x);
  const ys = nodes.map((n) => n.y);
  const minX = Math.min(...xs),
    maxX = Math.max(...xs),
    minY = Math.min(...ys),
    maxY = Math.max(...ys);
  const spanX = Math.max(maxX - minX, 1e-9),
    spanY = Math.max(maxY - minY, 1e-9);
  const height = Math.round(Math.min(640, Math.max(360, ((WIDTH - 2 * MARGIN) * spanY) / spanX + 2 * MARGIN)));
  const scale = Math.min((WIDTH - 2 * MARGIN) / spanX, (height - 2 * MARGIN) / spanY);
  const offX = (WIDTH - spanX * scale) / 2,
    offY = (height - spanY * scale) / 2;
  /** @type {Map<string, [number, number]>} */
  const at = new Map(nodes.map((n) => [n.node, [offX + (n.x - minX) * scale, offY + (n.y - minY) * scale]]));
  return { height, at };
}

/**
 * Each cluster's area (its members' hull) and its name above the topmost member.
 * @param {MapNode[]} nodes @param {Map<string, [number, number]>} at @param {Map<string, string>} colours
 */
function clusterShapes(nodes, at, colours) {
  const areas = svg('g', { class: 'clusters' });
  const labels = svg('g', { class: 'cluster-labels' });
  for (const [cluster, colour] of colours) {
    const members = nodes
      .filter((n) => n.cluster === cluster)
      .map((n) => /** @type {[number, number]} */ (at.get(n.node)));
    const hull = convexHull(members);
    const d = hull.map((p, i) => `${i ? 'L' : 'M'}${p[0].toFixed(1)} ${p[1].toFixed(1)}`).join(' ') + ' Z';
    // A thick round-joined stroke of the hull pads it evenly around the nodes.
    areas.append(
      svg('path', {
        class: 'cluster-area',
        d,
        fill: colour,
        stroke: colour,
        'stroke-width': NODE_RADIUS * 2 + 22,
        'stroke-linejoin': 'round',
        'stroke-linecap': 'round',
        'data-cluster': cluster,
      }),
    );
    const top = members.reduce((best, p) => (p[1] < best[1] ? p : best), members[0]);
    const label = svg('text', {
      class: 'cluster-label',
      x: top[0],
      y: Math.max(12, top[1] - NODE_RADIUS - 16),
      fill: colour,
      'text-anchor': 'middle',
    });
    label.textContent = cluster;
    labels.append(label);
  }
  return { areas, labels };
}

/**
 * One node: a circle coloured by its probability (a halo when anomalous), its
 * id, a badge when silenced, and a title that says it all.
 * @param {MapNode} n @param {[number, number]} point @param {NodeScore | undefined} score
 * @param {{ threshold: number, selected: boolean, silence?: {reason: string}, stroke: string }} look
 */
function nodeMark(n, [x, y], score, look) {
  const state = score ? nodeState(score, look.threshold) : 'unknown';
  const g = svg('g', {
    class: `node state-${state}${look.selected ? ' selected' : ''}${look.silence ? ' silenced' : ''}`,
    transform: `translate(${x.toFixed(1)} ${y.toFixed(1)})`,
    'data-node': n.node,
    'data-cluster': n.cluster,
    'data-probability': score ? score.probability.toFixed(3) : '',
    tabindex: 0,
    role: 'button',
  });
  const title = svg('title');
  title.textContent =
    `node ${n.node} · ${n.cluster}` +
    (score ? ` · p ${score.probability.toFixed(2)}` : ' · no score yet') +
    (look.silence ? ` · silenced: ${look.silence.reason}` : '');
  g.append(title);
  if (state === 'anomalous') g.append(svg('circle', { class: 'halo', r: NODE_RADIUS + 6 }));
  g.append(
    svg('circle', {
      class: 'body',
      r: NODE_RADIUS,
      fill: score ? probabilityColour(score.probability, look.threshold) : '#4b5563',
      stroke: look.stroke,
    }),
  );
  const label = svg('text');
  label.textContent = n.node;
  g.append(label);
  if (look.silence) {
    const badge = svg('g', { class: 'silence-badge', transform: `translate(${NODE_RADIUS} ${-NODE_RADIUS})` });
    badge.append(svg('circle', { r: 6 }));
    const mark = svg('text');
    mark.textContent = 'M';
    badge.append(mark);
    g.append(badge);
  }
  return g;
}
