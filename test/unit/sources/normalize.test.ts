import { describe, expect, it } from 'vitest';
import {
  computeStats,
  denormalizeSeries,
  modalityRange,
  normalizeSeries,
  selectStats,
} from '../../../sources/normalize.ts';
import { makeSeries } from './helpers.ts';

describe('normalize', () => {
  const series = makeSeries(50, 3, 2, (t, n, m) => (n === 2 ? 7 : 100 * m + n + Math.cos(t) * (m + 1)));

  it('z-scores with training mean and std and round-trips', () => {
    const stats = computeStats(series, { to: 30 });
    const z = normalizeSeries(series, stats);
    let mean = 0;
    for (let t = 0; t < 30; t++) mean += z.data[(t * 3 + 1) * 2 + 1];
    expect(mean / 30).toBeCloseTo(0, 5);
    const back = denormalizeSeries(z, stats);
    for (let i = 0; i < series.data.length; i++) expect(back.data[i]).toBeCloseTo(series.data[i], 3);
  });

  it('floors the std of a constant node with the modality spread, so it stays finite', () => {
    const stats = computeStats(series, { to: 30 });
    expect(stats.std[2 * 2 + 0]).toBeGreaterThan(0.01);
    const z = normalizeSeries(series, stats);
    expect(z.data.every(Number.isFinite)).toBe(true);
  });

  it('records per-modality ranges over all nodes', () => {
    const stats = computeStats(series, { to: 30 });
    expect(stats.modalityMin[1]).toBe(7);
    expect(modalityRange(stats, 1)).toBeGreaterThan(90);
  });

  it('selects a cluster subset by node id and normalizes a sub-series with it', () => {
    const stats = computeStats(series, { to: 30 });
    const sub = selectStats(stats, ['n1']);
    expect(sub.mean[1]).toBe(stats.mean[1 * 2 + 1]);
    expect(() => selectStats(stats, ['zz'])).toThrow(/zz/);
  });
});
