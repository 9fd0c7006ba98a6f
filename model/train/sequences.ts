import type { Series } from '../../sources/series.ts';

/**
 * A training sequence: T consecutive windows of one cluster, ending at
 * steps end0 .. end0+T-1. `segment` holds steps end0-W+1 .. end0+T-1
 * (time-major, like Series.data); `clean` the same steps before injection.
 */
export interface SequenceSample {
  end0: number;
  segment: Float32Array;
  clean: Float32Array;
}

/** The steps of `series` a sequence needs, as a sub-series (shares nothing with the original). */
export function sequenceSegment(series: Series, end0: number, windows: number, w: number): Series {
  const nm = series.nodes.length * series.modalities.length;
  const first = end0 - w + 1;
  const steps = w + windows - 1;
  if (first < 0 || first + steps > series.steps)
    throw new RangeError(
      `sequence ending at ${end0}..${end0 + windows - 1} does not fit the series (${series.steps} steps)`,
    );
  return {
    nodes: series.nodes,
    modalities: series.modalities,
    steps,
    data: series.data.slice(first * nm, (first + steps) * nm),
  };
}

/**
 * Writes the windows of a segment into `out`, laid out [T, B, N, M, W] for
 * batch element `b` of `batch`.
 */
export function writeWindows(
  segment: Float32Array,
  n: number,
  m: number,
  w: number,
  windows: number,
  b: number,
  batch: number,
  out: Float32Array,
): void {
  const nmw = n * m * w;
  for (let k = 0; k < windows; k++) {
    const base = (k * batch + b) * nmw;
    for (let s = 0; s < w; s++) {
      const row = (k + s) * n * m;
      for (let i = 0; i < n * m; i++) out[base + i * w + s] = segment[row + i];
    }
  }
}

/**
 * Per window and node: 1 when any sample of that node inside the window was
 * changed by the injection (so a window that only just caught the anomaly
 * at its end is positive too). Written into `out` laid out [T, B, N].
 */
export function writeNodeLabels(
  segment: Float32Array,
  clean: Float32Array,
  n: number,
  m: number,
  w: number,
  windows: number,
  b: number,
  batch: number,
  out: Float32Array,
): void {
  const steps = w + windows - 1;
  const changed = new Uint8Array(steps * n);
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        const k = (t * n + i) * m + j;
        if (Math.abs(segment[k] - clean[k]) > 1e-6) changed[t * n + i] = 1;
      }
    }
  }
  // Window k covers segment steps k .. k + w - 1, so the first one ends at step w - 1.
  writeWindowFlags(changed, n, w, w - 1, windows, b, batch, out);
}

/**
 * Per window and node: 1 when any of the window's w steps of `flags` (laid
 * out [steps, N]) is set for that node. Window k ends at step firstEnd + k.
 * Written into `out` laid out [T, B, N] for batch element `b` of `batch`.
 */
export function writeWindowFlags(
  flags: Uint8Array,
  n: number,
  w: number,
  firstEnd: number,
  windows: number,
  b: number,
  batch: number,
  out: Float32Array,
): void {
  for (let k = 0; k < windows; k++) {
    const end = firstEnd + k;
    for (let i = 0; i < n; i++) {
      let hit = 0;
      for (let t = end - w + 1; t <= end && !hit; t++) hit = flags[t * n + i];
      out[(k * batch + b) * n + i] = hit;
    }
  }
}
