import { describe, expect, it } from 'vitest';
import { UserError } from '../../../common/errors.ts';
import { buildNetwork, weightOf, type SensorNode } from '../../../topology/index.ts';
import { randomNodes, sensorNode, shuffled } from './fixtures.ts';

const dist = (a: SensorNode, b: SensorNode): number => Math.hypot(a.x - b.x, a.y - b.y, (a.z ?? 0) - (b.z ?? 0));

/** The rule's edges by brute force over all pairs: the reference the grid must match. */
function referenceEdges(nodes: SensorNode[], knn?: number, range?: number): Set<string> {
  const out = new Set<string>();
  const key = (a: string, b: string): string => (Number(a) < Number(b) ? `${a}-${b}` : `${b}-${a}`);
  for (const a of nodes) {
    const others = nodes
      .filter((b) => b !== a && (range === undefined || dist(a, b) <= range))
      .sort((p, q) => dist(a, p) - dist(a, q) || Number(p.id) - Number(q.id));
    const chosen = knn === undefined ? others : others.slice(0, knn);
    for (const b of chosen) out.add(key(a.id, b.id));
  }
  return out;
}

function ruleEdgeKeys(nodes: SensorNode[], knn?: number, range?: number): Set<string> {
  const net = buildNetwork(nodes, { knn, range });
  const out = new Set<string>();
  net.graph.forEachEdge((_e, a, s, t) => {
    if (!a.bridge) out.add(Number(s) < Number(t) ? `${s}-${t}` : `${t}-${s}`);
  });
  return out;
}

describe('edge rules', () => {
  const nodes = randomNodes(400, 5, 100, true);

  it('k nearest neighbours matches the all-pairs reference (3-D distances)', () => {
    expect(ruleEdgeKeys(nodes, 5)).toEqual(referenceEdges(nodes, 5));
  });

  it('radio range matches the all-pairs reference', () => {
    expect(ruleEdgeKeys(nodes, undefined, 9)).toEqual(referenceEdges(nodes, undefined, 9));
  });

  it('both: the k nearest within range', () => {
    const both = ruleEdgeKeys(nodes, 3, 6);
    expect(both).toEqual(referenceEdges(nodes, 3, 6));
    const inRange = referenceEdges(nodes, undefined, 6);
    for (const e of both) expect(inRange.has(e)).toBe(true);
  });

  it('weights decrease with distance and lie in (0, 1]', () => {
    const net = buildNetwork(nodes, { knn: 4 });
    const pairs = net.graph.mapEdges((_e, a) => [a.distance, a.weight] as const).sort((p, q) => p[0] - q[0]);
    for (let i = 1; i < pairs.length; i++) expect(pairs[i][1]).toBeLessThanOrEqual(pairs[i - 1][1]);
    for (const [, w] of pairs) expect(w > 0 && w <= 1).toBe(true);
    expect(weightOf(0, 'inverse', 2)).toBe(1);
    expect(weightOf(2, 'inverse', 2)).toBe(0.5);
    expect(weightOf(2, 'gaussian', 2)).toBeCloseTo(Math.exp(-0.5));
  });

  it('does not depend on input order', () => {
    const a = buildNetwork(nodes, { knn: 4 });
    const b = buildNetwork(shuffled(nodes), { knn: 4 });
    expect(b.graph.nodes()).toEqual(a.graph.nodes());
    expect(ruleEdgeKeys(shuffled(nodes), 4)).toEqual(ruleEdgeKeys(nodes, 4));
    expect(b.rule).toEqual(a.rule);
  });

  it('rejects a rule with neither k nor range, and bad values', () => {
    expect(() => buildNetwork(nodes, {})).toThrow(UserError);
    expect(() => buildNetwork(nodes, { knn: 0 })).toThrow(/positive integer/);
    expect(() => buildNetwork(nodes, { range: -1 })).toThrow(/positive number/);
  });
});

describe('connectivity', () => {
  /** Three groups far apart: the range rule alone leaves three islands. */
  const island = (prefix: number, cx: number, cy: number): SensorNode[] =>
    Array.from({ length: 10 }, (_, i) => ({
      id: String(prefix + i),
      x: cx + (i % 5),
      y: cy + Math.floor(i / 5),
      modalities: ['temperature'],
      status: 'active' as const,
    }));
  const nodes = [...island(0, 0, 0), ...island(100, 50, 0), ...island(200, 50, 80)];

  it('joins islands with the shortest edges between them (a minimum spanning tree over islands)', () => {
    const net = buildNetwork(nodes, { range: 2 });
    expect(net.ruleComponents).toBe(3);
    const bridges = net.graph
      .filterEdges((_e, a) => a.bridge)
      .map((e) => [net.graph.source(e), net.graph.target(e)].sort().join('-'));
    expect(bridges).toHaveLength(2);
    // Island 0 (x 0..4) to island 100 (x 50..54): nearest pair is 4/9 to 100/105 at distance 46.
    const bridgeLengths = net.graph
      .filterEdges((_e, a) => a.bridge)
      .map((e) => net.graph.getEdgeAttribute(e, 'distance'))
      .sort((a, b) => a - b);
    expect(bridgeLengths).toEqual([46, 79]);
    expect(isConnected(net.graph.nodes(), (id) => net.graph.neighbors(id))).toBe(true);
  });

  it('adds no bridge when the rule already connects everything', () => {
    const net = buildNetwork(nodes, { range: 100 });
    expect(net.ruleComponents).toBe(1);
    expect(net.graph.filterEdges((_e, a) => a.bridge)).toHaveLength(0);
  });

  it('is connected for random networks under a sparse rule', () => {
    for (const seed of [1, 2, 3]) {
      const net = buildNetwork(randomNodes(500, seed), { knn: 1 });
      expect(net.ruleComponents).toBeGreaterThan(1);
      expect(isConnected(net.graph.nodes(), (id) => net.graph.neighbors(id))).toBe(true);
      expect(net.graph.filterEdges((_e, a) => a.bridge)).toHaveLength(net.ruleComponents - 1);
    }
  });
});

function isConnected(ids: string[], neighbours: (id: string) => string[]): boolean {
  if (ids.length === 0) return true;
  const seen = new Set([ids[0]]);
  const queue = [ids[0]];
  while (queue.length > 0) {
    for (const next of neighbours(queue.pop()!)) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen.size === ids.length;
}

describe('degenerate layouts', () => {
  const node = (id: string, x: number, y: number) => sensorNode(id, x, y, ['voltage']);

  it('a single node: no edges, one component', () => {
    const net = buildNetwork([node('a', 3, 4)], { knn: 4 });
    expect(net.graph.order).toBe(1);
    expect(net.graph.size).toBe(0);
    expect(net.ruleComponents).toBe(1);
  });

  it('nodes on one line and nodes at one point are still connected, with weight 1 at distance 0', () => {
    const line = Array.from({ length: 50 }, (_, i) => node(String(i), i * 2, 0));
    const net = buildNetwork(line, { range: 1 });
    expect(net.ruleComponents).toBe(50);
    expect(net.graph.size).toBe(49);
    expect(net.graph.filterEdges((_e, a) => a.distance === 2)).toHaveLength(49);
    const stacked = buildNetwork([node('a', 1, 1), node('b', 1, 1), node('c', 1, 1)], { knn: 1 });
    expect(stacked.graph.size).toBe(2);
    stacked.graph.forEachEdge((_e, a) => expect(a.weight).toBe(1));
  });

  it('rejects duplicate ids and non-finite positions passed directly', () => {
    expect(() => buildNetwork([node('a', 0, 0), node('a', 1, 1)], { knn: 1 })).toThrow(/appears twice/);
    expect(() => buildNetwork([node('a', 0, Number.NaN)], { knn: 1 })).toThrow(/non-finite/);
  });
});
