import type { Series } from '../../../sources/series.ts';

/** A series from per-node, per-modality value functions: value(t, n, m). */
export function makeSeries(
  steps: number,
  nodes: number,
  modalities: number,
  value: (t: number, n: number, m: number) => number,
): Series {
  const data = new Float32Array(steps * nodes * modalities);
  for (let t = 0; t < steps; t++) {
    for (let n = 0; n < nodes; n++) {
      for (let m = 0; m < modalities; m++) data[(t * nodes + n) * modalities + m] = value(t, n, m);
    }
  }
  return {
    nodes: Array.from({ length: nodes }, (_, i) => `n${i}`),
    modalities: Array.from({ length: modalities }, (_, i) => `m${i}`),
    steps,
    data,
  };
}
