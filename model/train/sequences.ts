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

/**
 * Where one sequence goes in a batch laid out [T, B, ...]: its `windows` (T)
 * windows are element `b` of `batch` (B) sequences, so window k sits at row
 * k * batch + b.
 */
export interface BatchSlot {
  windows: number;
  b: number;
  batch: number;
}

/** The row of window k of a slot in a [T, B, ...] array. */
const slotRow = (slot: BatchSlot, k: number): number => k * slot.batch + slot.b;

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

/** Writes the windows of a segment into `out`, laid out [T, B, N, M, W], at `slot`. */
export function writeWindows(
  segment: Float32Array,
  n: number,
  m: number,
  w: number,
  slot: BatchSlot,
  out: Float32Array,
): void {
  const nmw = n * m * w;
  for (let k = 0; k < slot.windows; k++) {
    const base = slotRow(slot, k) * nmw;
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
  dims: { n: number; m: number; w: number },
  slot: BatchSlot,
  out: Float32Array,
): void {
  const { n, m, w } = dims;
  const steps = w + slot.windows - 1;
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
  writeWindowFlags(changed, n, w, w - 1, slot, out);
}

/**
 * Per window and node: 1 when any of the window's w steps of `flags` (laid
 * out [steps, N]) is set for that node. Window k ends at step firstEnd + k.
 * Written into `out` laid out [T, B, N] at `slot`.
 */
export function writeWindowFlags(
  flags: Uint8Array,
  n: number,
  w: number,
  firstEnd: number,
  slot: BatchSlot,
  out: Float32Array,
): void {
  for (let k = 0; k < slot.windows; k++) {
    const end = firstEnd + k;
    for (let i = 0; i < n; i++) {
      let hit = 0;
      for (let t = end - w + 1; t <= end && !hit; t++) hit = flags[t * n + i];
      out[slotRow(slot, k) * n + i] = hit;
    }
  }
}

/** Context rows of T consecutive steps from end0, written [T, B, N, M·F] at `slot`. */
export function writeContext(
  context: Float32Array,
  rowWidth: number,
  n: number,
  end0: number,
  slot: BatchSlot,
  out: Float32Array,
): void {
  for (let k = 0; k < slot.windows; k++) {
    const from = (end0 + k) * n * rowWidth;
    out.set(context.subarray(from, from + n * rowWidth), slotRow(slot, k) * n * rowWidth);
  }
}
