import { createRng } from '../common/random.ts';
import type { Series } from './series.ts';
import type { ClusterGraph } from '../topology/adjacency.ts';
import { knnGraph } from '../topology/adjacency.ts';

export interface SyntheticOptions {
  nodes: number;
  steps: number;
  seed: number;
  /** Samples per simulated day (the daily cycle's period). Default 288 (5-minute sampling). */
  period?: number;
  /** Edges per node to its nearest neighbours. Default 3. */
  neighbours?: number;
}

export interface SyntheticNetwork {
  /** Raw-unit readings: temperature °C, humidity %RH, voltage V. */
  series: Series;
  graph: ClusterGraph;
  /** Node positions in metres. */
  positions: Array<[number, number]>;
}

export const SYNTHETIC_MODALITIES = ['temperature', 'humidity', 'voltage'];

/**
 * A small correlated sensor network for demos and tests: nodes on a 40 m
 * square, temperature following a daily cycle plus a smooth spatial field
 * and a slowly wandering shared weather term, humidity moving against
 * temperature, voltage draining slowly with a little temperature dependence.
 * Neighbours share most of their variation (a latent field sampled at their
 * positions), so the graph carries real information.
 */
export function generateSyntheticNetwork(options: SyntheticOptions): SyntheticNetwork {
  const { nodes: n, steps, seed } = options;
  if (!(Number.isInteger(n) && n >= 2))
    throw new RangeError(`synthetic network: nodes must be an integer >= 2, got ${n}`);
  if (!(Number.isInteger(steps) && steps >= 2))
    throw new RangeError(`synthetic network: steps must be an integer >= 2, got ${steps}`);
  const period = options.period ?? 288;
  const k = Math.min(n - 1, options.neighbours ?? 3);
  const rng = createRng(seed);
  const positions: Array<[number, number]> = Array.from({ length: n }, () => [rng.next() * 40, rng.next() * 40]);

  // A few latent "weather cells": each node mixes them by proximity, so close nodes move together.
  const cells = 4;
  const cellPositions = Array.from({ length: cells }, () => [rng.next() * 40, rng.next() * 40]);
  const mix = positions.map(([x, y]) => {
    const raw = cellPositions.map(([cx, cy]) => Math.exp(-Math.hypot(x - cx, y - cy) / 15));
    const total = raw.reduce((a, b) => a + b, 0);
    return raw.map((v) => v / total);
  });
  const nodeOffset = positions.map(([x, y]) => 0.05 * x - 0.03 * y + rng.normal() * 0.3);
  const phase = positions.map(([x]) => (x / 40) * 0.3);
  const battery = Array.from({ length: n }, () => 2.65 + rng.next() * 0.1);
  const drain = Array.from({ length: n }, () => (1 + rng.next()) * 2e-5);

  const m = SYNTHETIC_MODALITIES.length;
  const data = new Float32Array(steps * n * m);
  const cellState = new Float64Array(cells);
  const humidityNoise = new Float64Array(n);
  for (let t = 0; t < steps; t++) {
    for (let c = 0; c < cells; c++) cellState[c] = 0.98 * cellState[c] + 0.15 * rng.normal();
    for (let i = 0; i < n; i++) {
      let weather = 0;
      for (let c = 0; c < cells; c++) weather += mix[i][c] * cellState[c];
      const daily = Math.sin((2 * Math.PI * t) / period - Math.PI / 2 + phase[i]);
      const temperature = 21 + nodeOffset[i] + 3 * daily + weather + 0.08 * rng.normal();
      humidityNoise[i] = 0.9 * humidityNoise[i] + 0.2 * rng.normal();
      const humidity = 38 - 1.6 * (temperature - 21) + humidityNoise[i] + 0.15 * rng.normal();
      const voltage = battery[i] - drain[i] * t + 0.004 * (temperature - 21) + 0.002 * rng.normal();
      const base = (t * n + i) * m;
      data[base] = temperature;
      data[base + 1] = humidity;
      data[base + 2] = voltage;
    }
  }
  const ids = Array.from({ length: n }, (_, i) => `s${i + 1}`);
  return {
    series: { nodes: ids, modalities: [...SYNTHETIC_MODALITIES], steps, data },
    graph: knnGraph(ids, positions, k),
    positions,
  };
}
