import { describe, expect, it } from 'vitest';
import { generateSyntheticNetwork } from '../../../sources/synthetic.ts';

describe('generateSyntheticNetwork', () => {
  it('without loss, every reading of every step is there', () => {
    const { series, lost } = generateSyntheticNetwork({ nodes: 6, steps: 300, seed: 2 });
    expect(lost.every((x) => x === 0)).toBe(true);
    expect(series.data.every(Number.isFinite)).toBe(true);
  });

  it('loses about the asked share of readings and holds the previous values in their place, as ingest does', () => {
    const nodes = 6;
    const steps = 2_000;
    const { series, lost } = generateSyntheticNetwork({ nodes, steps, seed: 2, lossRate: 0.05 });
    const share = lost.reduce((sum, x) => sum + x, 0) / lost.length;
    expect(share).toBeGreaterThan(0.03);
    expect(share).toBeLessThan(0.07);
    const m = series.modalities.length;
    expect(series.data.every(Number.isFinite)).toBe(true);
    for (let t = 1; t < steps; t++)
      for (let i = 0; i < nodes; i++) {
        if (!lost[t * nodes + i]) continue;
        const here = series.data.subarray((t * nodes + i) * m, (t * nodes + i + 1) * m);
        const before = series.data.subarray(((t - 1) * nodes + i) * m, ((t - 1) * nodes + i + 1) * m);
        expect(Array.from(here)).toEqual(Array.from(before));
      }
  });

  it('the readings that were not lost are the loss-free network’s', () => {
    const clean = generateSyntheticNetwork({ nodes: 4, steps: 400, seed: 3 });
    const lossy = generateSyntheticNetwork({ nodes: 4, steps: 400, seed: 3, lossRate: 0.1 });
    const m = clean.series.modalities.length;
    let compared = 0;
    for (let k = 0; k < lossy.lost.length; k++) {
      if (lossy.lost[k]) continue;
      expect(lossy.series.data[k * m]).toBe(clean.series.data[k * m]);
      compared++;
    }
    expect(compared).toBeGreaterThan(1_000);
  });
});
