import { Simulation } from './simulate.ts';
import type { Series } from './series.ts';
import type { ClusterGraph } from '../topology/adjacency.ts';
import { knnGraph } from '../topology/adjacency.ts';
import { DAY_MS } from '../common/constants.ts';

/** The generated network's tick: ingest's default (31 s, the IBRL round), so a model trained here fits the demo's stream. */
export const SYNTHETIC_TICK_MS = 31_000;

export interface SyntheticOptions {
  nodes: number;
  steps: number;
  seed: number;
  /** Samples per simulated day (the daily cycle's period). Default: one per 31 s (SYNTHETIC_TICK_MS), ingest's tick. */
  period?: number;
  /** Edges per node to its nearest neighbours. Default 3. */
  neighbours?: number;
  /**
   * Share of readings lost in the radio, as the simulator (and so the demo)
   * loses them (its default is 0.03). A lost reading holds the node's previous
   * values, as ingest's alignment does, and is marked in `lost`. Default 0.
   */
  lossRate?: number;
}

export interface SyntheticNetwork {
  /** Raw-unit readings: temperature °C, humidity %RH, voltage V. */
  series: Series;
  graph: ClusterGraph;
  /** Node positions in metres. */
  positions: Array<[number, number]>;
  /** steps × nodes, 1 where the node's reading of that step was lost (its values are the previous step's). */
  lost: Uint8Array;
}

export const SYNTHETIC_MODALITIES = ['temperature', 'humidity', 'voltage'];

/**
 * The simulator's network (sources/simulate.ts, what `simulate` and the demo
 * stream) as an aligned series for training, evaluation and tests: the same
 * nodes, positions and readings, one sample per round, without faults and
 * with the radio loss asked for (held as ingest holds it), so a model trained
 * here knows the network the demo shows. Temperature follows a daily cycle with a gradient across the floor
 * and a per-node offset, humidity moves against temperature, voltage drains
 * slowly; neighbours share the room's course, so the graph carries real
 * information.
 */
export function generateSyntheticNetwork(options: SyntheticOptions): SyntheticNetwork {
  const { nodes: n, steps, seed } = options;
  if (!(Number.isInteger(n) && n >= 2))
    throw new RangeError(`synthetic network: nodes must be an integer >= 2, got ${n}`);
  if (!(Number.isInteger(steps) && steps >= 2)) {
    throw new RangeError(`synthetic network: steps must be an integer >= 2, got ${steps}`);
  }
  const period = options.period ?? DAY_MS / SYNTHETIC_TICK_MS;
  const k = Math.min(n - 1, options.neighbours ?? 3);
  const simulation = new Simulation({
    nodes: n,
    seed,
    tickMs: Math.round(DAY_MS / period),
    startTs: 0,
    faults: false,
    lossRate: options.lossRate ?? 0,
  });
  const ids = simulation.nodes.map((node) => node.id);
  const index = new Map(ids.map((id, i) => [id, i]));
  const m = SYNTHETIC_MODALITIES.length;
  const data = new Float32Array(steps * n * m).fill(Number.NaN);
  const lost = new Uint8Array(steps * n).fill(1);
  for (let t = 0; t < steps; t++) {
    for (const reading of simulation.round(t)) {
      const i = index.get(reading.node) as number;
      lost[t * n + i] = 0;
      SYNTHETIC_MODALITIES.forEach((modality, j) => (data[(t * n + i) * m + j] = reading.values[modality]));
    }
  }
  holdLostReadings(data, lost, steps, n, m);
  const positions = simulation.nodes.map((node): [number, number] => [node.x, node.y]);
  return {
    series: { nodes: ids, modalities: [...SYNTHETIC_MODALITIES], steps, data },
    graph: knnGraph(ids, positions, k),
    positions,
    lost,
  };
}

/** Lost readings hold the node's previous values; one lost at the first step takes the node's first reading. */
function holdLostReadings(data: Float32Array, lost: Uint8Array, steps: number, n: number, m: number): void {
  for (let i = 0; i < n; i++) {
    let first = 0;
    while (first < steps && lost[first * n + i]) first++;
    if (first === steps) throw new RangeError(`synthetic network: node ${i} lost every reading`);
    for (let t = 0; t < steps; t++) {
      if (!lost[t * n + i]) continue;
      const from = (t < first ? first : t - 1) * n + i;
      data.copyWithin((t * n + i) * m, from * m, from * m + m);
    }
  }
}
