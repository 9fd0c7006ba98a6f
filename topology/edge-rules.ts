/**
 * Edges from positions: k nearest neighbours, radio range, or both (k nearest
 * within range), then minimum-spanning bridges so the graph is connected.
 */
import { UserError } from '../common/errors.ts';
import { SpatialGrid, type Points } from './spatial-grid.ts';
import { UnionFind } from './union-find.ts';
import type { EdgeRule, ResolvedEdgeRule, WeightKind } from './types.ts';

export const DEFAULT_EDGE_RULE: EdgeRule = { knn: 4 };

export interface RawEdge {
  i: number;
  j: number;
  d: number;
  bridge: boolean;
}

export function validateEdgeRule(rule: EdgeRule): void {
  if (rule.knn === undefined && rule.range === undefined) {
    throw new UserError(
      'EDGE_RULE',
      'the edge rule needs k nearest neighbours, a radio range, or both',
      'pass --knn K and/or --range R',
    );
  }
  if (rule.knn !== undefined && !(Number.isInteger(rule.knn) && rule.knn >= 1)) {
    throw new UserError(
      'EDGE_RULE',
      `k nearest neighbours must be a positive integer (got ${rule.knn})`,
      'pass e.g. --knn 4',
    );
  }
  if (rule.range !== undefined && !(Number.isFinite(rule.range) && rule.range > 0)) {
    throw new UserError(
      'EDGE_RULE',
      `radio range must be a positive number (got ${rule.range})`,
      'pass e.g. --range 6 (same unit as the positions)',
    );
  }
  if (rule.scale !== undefined && !(Number.isFinite(rule.scale) && rule.scale > 0)) {
    throw new UserError('EDGE_RULE', `weight scale must be a positive number (got ${rule.scale})`);
  }
}

/** Edges the rule itself gives, i < j, deduplicated, in deterministic order. */
export function ruleEdges(points: Points, grid: SpatialGrid, rule: Pick<EdgeRule, 'knn' | 'range'>): RawEdge[] {
  const n = points.xs.length;
  const seen = new Set<number>();
  const edges: RawEdge[] = [];
  const add = (a: number, b: number, d: number): void => {
    const i = Math.min(a, b);
    const j = Math.max(a, b);
    const key = i * n + j;
    if (seen.has(key)) return;
    seen.add(key);
    edges.push({ i, j, d, bridge: false });
  };
  const outJ = new Int32Array(rule.knn ?? 0);
  const outD = new Float64Array(rule.knn ?? 0);
  for (let i = 0; i < n; i++) {
    if (rule.knn !== undefined) {
      const count = grid.nearestInto(i, rule.knn, rule.range ?? Infinity, null, outJ, outD);
      for (let c = 0; c < count; c++) add(i, outJ[c], outD[c]);
    } else if (rule.range !== undefined) {
      for (const { j, d } of grid.within(i, rule.range)) if (j > i) add(i, j, d);
    }
  }
  return edges;
}

/**
 * Joins the islands the rule left with the shortest edges between them
 * (Borůvka rounds: every component but the largest takes its shortest
 * outgoing edge, which by the cut property belongs to a minimum spanning
 * forest). Returns the bridge edges and the component count before joining.
 */
export function bridgeIslands(
  points: Points,
  grid: SpatialGrid,
  edges: readonly RawEdge[],
): { bridges: RawEdge[]; components: number } {
  const n = points.xs.length;
  const sets = new UnionFind(n);
  for (const e of edges) sets.union(e.i, e.j);
  const components = sets.count;
  const bridges: RawEdge[] = [];
  while (sets.count > 1) {
    const members = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const root = sets.find(i);
      let list = members.get(root);
      if (!list) members.set(root, (list = []));
      list.push(i);
    }
    // Skip the largest component (ties: the one holding the smallest index): it is reached from the others.
    let largest = -1;
    let largestSize = -1;
    for (const [root, list] of members) {
      if (
        list.length > largestSize ||
        (list.length === largestSize && list[0] < (members.get(largest)?.[0] ?? Infinity))
      ) {
        largest = root;
        largestSize = list.length;
      }
    }
    const candidates: RawEdge[] = [];
    for (const [root, list] of members) {
      if (root === largest) continue;
      let best: RawEdge | null = null;
      for (const i of list) {
        const found = grid.nearest(i, 1, best ? best.d : Infinity, (j) => sets.find(j) !== root);
        if (found.length === 0) continue;
        const { j, d } = found[0];
        const e = { i: Math.min(i, j), j: Math.max(i, j), d, bridge: true };
        if (!best || d < best.d || (d === best.d && (e.i < best.i || (e.i === best.i && e.j < best.j)))) best = e;
      }
      if (best) candidates.push(best);
    }
    candidates.sort((a, b) => a.d - b.d || a.i - b.i || a.j - b.j);
    for (const e of candidates) if (sets.union(e.i, e.j)) bridges.push(e);
  }
  return { bridges, components };
}

export function weightOf(d: number, kind: WeightKind, scale: number): number {
  return kind === 'gaussian' ? Math.exp(-((d / scale) ** 2) / 2) : 1 / (1 + d / scale);
}

/** Fixes the weight scale (median rule-edge length unless given) so later rebuilds give the same weights. */
export function resolveEdgeRule(rule: EdgeRule, edges: readonly RawEdge[]): ResolvedEdgeRule {
  validateEdgeRule(rule);
  let scale = rule.scale;
  if (scale === undefined) {
    const lengths = edges
      .map((e) => e.d)
      .filter((d) => d > 0)
      .sort((a, b) => a - b);
    scale = lengths.length > 0 ? lengths[Math.floor((lengths.length - 1) / 2)] : 1;
  }
  return { knn: rule.knn ?? null, range: rule.range ?? null, weight: rule.weight ?? 'gaussian', scale };
}

export function toEdgeRule(resolved: ResolvedEdgeRule): EdgeRule {
  const rule: EdgeRule = { weight: resolved.weight, scale: resolved.scale };
  if (resolved.knn !== null) rule.knn = resolved.knn;
  if (resolved.range !== null) rule.range = resolved.range;
  return rule;
}
