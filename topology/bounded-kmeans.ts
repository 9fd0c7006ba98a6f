/**
 * k-means on positions (ml-kmeans) that guarantees every group has at most
 * `maxSize` members: k = ceil(n / maxSize × 1.2) leaves head-room, and any
 * group still too large is split again, recursively. For large k the split is
 * hierarchical: coarse k-means into at most `branching` groups (≈ √k, fewer
 * iterations, they only need to be roughly right) and the fine k-means inside
 * each group, so the cost per point is a few dozen distances instead of k.
 *
 * Initial centres come from our own seeded k-means++ (one candidate per step,
 * O(n·k)); ml-kmeans's built-in k-means++ tries several candidates per centre
 * and took seconds for 44 centres over 100,000 points.
 */
import { kmeans } from 'ml-kmeans';
import { createRng } from '../common/random.ts';

export interface BoundedKMeansOptions {
  maxSize: number;
  seed: number;
  maxIterations: number;
  /** Above this k, split coarsely first (default 48). */
  twoLevelAbove?: number;
  /** Most groups of one coarse split (default 16). */
  branching?: number;
}

/** Groups of point indices (into `coords`), each of size ≤ maxSize, in a deterministic order. */
export function boundedKMeans(
  coords: readonly number[][],
  indices: readonly number[],
  options: BoundedKMeansOptions,
): number[][] {
  const out: number[][] = [];
  split(coords, [...indices], options, out);
  return out;
}

function chunk(indices: number[], coords: readonly number[][], maxSize: number, out: number[][]): void {
  // Fallback when k-means cannot separate the points (e.g. identical positions): cut along x, then y.
  const sorted = [...indices].sort((a, b) => coords[a][0] - coords[b][0] || coords[a][1] - coords[b][1] || a - b);
  const parts = Math.ceil(sorted.length / maxSize);
  const size = Math.ceil(sorted.length / parts);
  for (let i = 0; i < sorted.length; i += size) out.push(sorted.slice(i, i + size));
}

function split(coords: readonly number[][], indices: number[], options: BoundedKMeansOptions, out: number[][]): void {
  const { maxSize, seed, maxIterations } = options;
  if (indices.length <= maxSize) {
    if (indices.length > 0) out.push(indices);
    return;
  }
  const wanted = Math.ceil((indices.length / maxSize) * 1.2);
  const twoLevelAbove = options.twoLevelAbove ?? 48;
  const coarse = wanted > twoLevelAbove;
  const k = coarse ? Math.min(Math.ceil(Math.sqrt(wanted)), options.branching ?? 16) : wanted;
  const iterations = coarse ? Math.min(maxIterations, 10) : maxIterations;
  const data = indices.map((i) => coords[i]);
  let labels: number[];
  try {
    const centres = seededKMeansPlusPlus(data, Math.min(k, data.length), seed);
    labels = kmeans(data, centres.length, { seed, maxIterations: iterations, initialization: centres }).clusters;
  } catch {
    chunk(indices, coords, maxSize, out);
    return;
  }
  const groups: number[][] = [];
  labels.forEach((label, position) => {
    (groups[label] ??= []).push(indices[position]);
  });
  const nonEmpty = groups.filter((g) => g && g.length > 0);
  if (nonEmpty.length <= 1) {
    chunk(indices, coords, maxSize, out);
    return;
  }
  for (const group of nonEmpty) split(coords, group, options, out);
}

/**
 * k-means++ seeding: the first centre uniformly at random, each next one with
 * probability proportional to the squared distance to the nearest centre so
 * far. Deterministic for a seed. Stops early when every point coincides with
 * a centre (fewer distinct points than k).
 */
export function seededKMeansPlusPlus(data: readonly number[][], k: number, seed: number): number[][] {
  const n = data.length;
  const dims = data[0]?.length ?? 0;
  const rng = createRng(seed);
  const nearest = new Float64Array(n).fill(Infinity);
  const centres: number[][] = [];
  let next = rng.int(n);
  while (centres.length < k) {
    const centre = data[next].slice();
    centres.push(centre);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const p = data[i];
      let d = 0;
      for (let a = 0; a < dims; a++) d += (p[a] - centre[a]) ** 2;
      if (d < nearest[i]) nearest[i] = d;
      total += nearest[i];
    }
    if (centres.length === k || total === 0) break;
    let target = rng.next() * total;
    next = n - 1;
    for (let i = 0; i < n; i++) {
      target -= nearest[i];
      if (target < 0) {
        next = i;
        break;
      }
    }
  }
  return centres;
}
