/**
 * Which coordinates are plausible. Real position files contain typing errors
 * (IBRL's node.txt lists one mote at y = 253 m on a 40 × 31 m floor plan), and a
 * single such node would stretch the grid, skew k-means and draw long edges.
 *
 * Rules:
 * - `mad` (default): per axis, a coordinate is implausible when it lies more
 *   than `threshold` robust standard deviations (1.4826 × median absolute
 *   deviation) from the median. Robust because the outlier itself barely moves
 *   the median and the MAD. Needs at least `minNodes` nodes and a non-zero MAD
 *   on the axis; otherwise that axis is not judged.
 * - `bbox`: an explicit floor-plan bounding box (inclusive).
 * - `none`: every finite coordinate is plausible.
 */
import type { Position } from './types.ts';
import { median } from '../common/median.ts';

export type PlausibilityRule =
  | { kind: 'mad'; threshold: number; minNodes: number }
  | { kind: 'bbox'; minX: number; minY: number; maxX: number; maxY: number; minZ?: number; maxZ?: number }
  | { kind: 'none' };

export const DEFAULT_PLAUSIBILITY: PlausibilityRule = { kind: 'mad', threshold: 6, minNodes: 8 };

/** What to do with an implausible node: leave it out (reported), keep it (reported as a warning), or fail. */
export type OutlierPolicy = 'exclude' | 'keep' | 'error';

interface AxisBound {
  axis: 'x' | 'y' | 'z';
  low: number;
  high: number;
  describe: string;
}

function madBound(axis: 'x' | 'y' | 'z', values: number[], threshold: number): AxisBound | null {
  const med = median(values);
  const sigma = 1.4826 * median(values.map((v) => Math.abs(v - med)));
  if (!(sigma > 0)) return null;
  const low = med - threshold * sigma;
  const high = med + threshold * sigma;
  return {
    axis,
    low,
    high,
    describe: `median ${round(med)} ± ${threshold} × robust sd ${round(sigma)} = [${round(low)}, ${round(high)}]`,
  };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/**
 * Returns, per position index, the reason it is implausible (or null when it
 * is fine). The bounds are computed from all positions at once.
 */
export function findImplausible(positions: readonly Position[], rule: PlausibilityRule): Array<string | null> {
  const reasons: Array<string | null> = positions.map(() => null);
  const bounds: AxisBound[] = [];
  if (rule.kind === 'none') return reasons;
  if (rule.kind === 'bbox') {
    const box = `bounding box x [${rule.minX}, ${rule.maxX}], y [${rule.minY}, ${rule.maxY}]`;
    bounds.push({ axis: 'x', low: rule.minX, high: rule.maxX, describe: box });
    bounds.push({ axis: 'y', low: rule.minY, high: rule.maxY, describe: box });
    if (rule.minZ !== undefined || rule.maxZ !== undefined) {
      bounds.push({
        axis: 'z',
        low: rule.minZ ?? -Infinity,
        high: rule.maxZ ?? Infinity,
        describe: `z [${rule.minZ ?? '-inf'}, ${rule.maxZ ?? 'inf'}]`,
      });
    }
  } else {
    if (positions.length < rule.minNodes) return reasons;
    for (const axis of ['x', 'y', 'z'] as const) {
      const values = positions.map((p) => (axis === 'z' ? (p.z ?? 0) : p[axis]));
      const bound = madBound(axis, values, rule.threshold);
      if (bound) bounds.push(bound);
    }
  }
  positions.forEach((p, i) => {
    for (const b of bounds) {
      const v = b.axis === 'z' ? (p.z ?? 0) : p[b.axis];
      if (v < b.low || v > b.high) {
        reasons[i] = `implausible coordinate ${b.axis}=${v}: outside ${b.describe}`;
        return;
      }
    }
  });
  return reasons;
}
