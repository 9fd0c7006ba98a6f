import { describe, expect, it } from 'vitest';
import { pearson } from '../../../../sources/inject.ts';
import { calibrateThreshold, evaluateThreshold, midpointOfGap } from '../../../../model/train/calibrate.ts';
import { knnGraph } from '../../../../topology/adjacency.ts';
import { writeNodeLabels, writeWindowFlags, writeWindows } from '../../../../model/train/sequences.ts';
import { generateSyntheticNetwork } from '../../../../sources/synthetic.ts';
import { channel } from '../../../../sources/inject.ts';

describe('training labels and windows', () => {
  // 2 nodes × 1 modality, window 3, 3 windows → 5 steps.
  const clean = Float32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);

  it('lays windows out [T, B, N, M, W], oldest sample first', () => {
    const out = new Float32Array(3 * 1 * 2 * 1 * 3);
    writeWindows(clean, 2, 1, 3, { windows: 3, b: 0, batch: 1 }, out);
    expect(Array.from(out.slice(0, 6))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(Array.from(out.slice(12, 18))).toEqual([2, 3, 4, 2, 3, 4]);
  });

  it('marks a node positive in every window that holds a changed sample, also at the window end', () => {
    const injected = clean.slice();
    injected[4 * 2 + 1] = 9; // node 1, last step only
    const labels = new Float32Array(3 * 2);
    writeNodeLabels(injected, clean, { n: 2, m: 1, w: 3 }, { windows: 3, b: 0, batch: 1 }, labels);
    // Windows end at steps 2, 3, 4: only the last holds step 4.
    expect(Array.from(labels)).toEqual([0, 0, 0, 0, 0, 1]);
  });

  it('flags a window of a long labelled part when any of its ticks is labelled, at batch element b', () => {
    // 2 nodes, 8 ticks of a part: node 0 labelled at tick 3, node 1 at tick 7.
    const flags = new Uint8Array(8 * 2);
    flags[3 * 2] = 1;
    flags[7 * 2 + 1] = 1;
    // Window 3, 3 windows ending at ticks 5, 6, 7; element 1 of a batch of 2 → [T, B, N] with B = 2.
    const out = new Float32Array(3 * 2 * 2).fill(-1);
    writeWindowFlags(flags, 2, 3, 5, { windows: 3, b: 1, batch: 2 }, out);
    // Ticks 3..5 hold node 0's label; 4..6 and 5..7 do not; only 5..7 holds node 1's.
    expect(Array.from(out)).toEqual([-1, -1, 1, 0, -1, -1, 0, 0, -1, -1, 0, 1]);
  });
});

describe('threshold calibration', () => {
  it('picks the threshold with the best F1 for equal numbers of clean and injected cases', () => {
    const injected = [0.9, 0.8, 0.7, 0.4];
    // One false alarm above 0.4 costs less than missing the 0.4 anomaly: F1 8/9 against 6/7.
    const one = calibrateThreshold([0.1, 0.2, 0.3, 0.65], injected);
    // Every threshold in (0.3, 0.4] gives that F1: the middle of the gap.
    expect(one.threshold).toBeCloseTo(0.35, 6);
    expect(one.f1).toBeCloseTo(8 / 9, 6);
    // Two false alarms cost more: the threshold moves just above the higher one.
    const two = calibrateThreshold([0.1, 0.2, 0.5, 0.6], injected);
    expect(two.threshold).toBeGreaterThan(0.6);
    expect(two.threshold).toBeLessThanOrEqual(0.7);
    expect(two.recall).toBe(0.75);
    expect(two.precision).toBe(1);
    expect(evaluateThreshold([0.1, 0.2, 0.5, 0.6], injected, 0.4).f1).toBeLessThan(two.f1);
  });

  it('puts the threshold midway between clean and injected scores when validation separates them', () => {
    // Any threshold in (0.1, 0.6] is perfect on this data; the upper edge would miss an anomaly scored 0.55.
    const separated = calibrateThreshold([0.02, 0.05, 0.1], [0.6, 0.9, 0.99]);
    expect(separated.f1).toBe(1);
    expect(separated.threshold).toBeCloseTo(0.35, 6);
    expect(midpointOfGap([0.3, 0.9], 0.3)).toBe(0.3);
  });
});

describe('synthetic network', () => {
  it('is reproducible and correlated across modalities and neighbours', () => {
    // A day of 5-minute samples, so the daily cycle shows.
    const a = generateSyntheticNetwork({ nodes: 6, steps: 400, seed: 2, period: 288 });
    const b = generateSyntheticNetwork({ nodes: 6, steps: 400, seed: 2, period: 288 });
    expect(Array.from(a.series.data)).toEqual(Array.from(b.series.data));
    expect(a.series.modalities).toEqual(['temperature', 'humidity', 'voltage']);
    // Humidity moves against temperature.
    expect(pearson(channel(a.series, 0, 0), channel(a.series, 0, 1))).toBeLessThan(-0.8);
    // Each node's temperature follows its graph neighbours'.
    const neighbour = a.graph.adjacency[0].findIndex((w) => w > 0);
    expect(pearson(channel(a.series, 0, 0), channel(a.series, neighbour, 0))).toBeGreaterThan(0.8);
  });

  it('links every node to its k nearest, symmetrically', () => {
    const graph = knnGraph(
      ['a', 'b', 'c', 'd'],
      [
        [0, 0],
        [1, 0],
        [10, 0],
        [11, 0],
      ],
      1,
    );
    expect(graph.adjacency[0][1]).toBeGreaterThan(0);
    expect(graph.adjacency[1][0]).toBe(graph.adjacency[0][1]);
    expect(graph.adjacency[0][2]).toBe(0);
    expect(graph.adjacency[2][3]).toBeGreaterThan(0);
  });
});
