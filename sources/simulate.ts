import type { FaultKind } from './fault-catalogue.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRng, type Rng } from '../common/random.ts';
import type { TransportProducer } from '../common/transport.ts';
import { TOPICS, type Reading } from '../common/types.ts';
import { publishPaced, type PublishProgress } from './publish.ts';
import { DAY_MS } from '../common/constants.ts';

/**
 * A synthetic sensor network for demos and load: nodes on a floor plan,
 * readings of temperature, humidity, light and voltage that follow a daily
 * cycle, correlate in space (a smooth field plus a per-node offset) and across
 * modalities (humidity falls when temperature rises), with sensor noise,
 * lost readings and jittered send times. With `faults`, some nodes get
 * injected faults (stuck, spike, drift, dropout: a silent node), listed as ground truth.
 * Deterministic for a seed.
 */
export interface SimulatedNode {
  id: string;
  x: number;
  y: number;
}

/** The simulator's faults, from the catalogue (a dropout here: the node falls silent). */
export type SimulatedFaultKind = Extract<FaultKind, 'stuck' | 'spike' | 'drift' | 'dropout'>;

export interface SimulatedFault {
  node: string;
  kind: SimulatedFaultKind;
  modality: string;
  /** First and last affected tick start, UTC ms. */
  fromTs: number;
  toTs: number;
}

export interface SimulationOptions {
  nodes: number;
  seed?: number;
  network?: string;
  /** Sampling period, ms (default 31 000, the IBRL round). */
  tickMs?: number;
  /** Event time of the first round, UTC ms (default: now, rounded down to a tick). */
  startTs?: number;
  /** Inject faults (default false). */
  faults?: boolean;
  /** Share of readings lost in the radio (default 0.03). */
  lossRate?: number;
}

export const SIMULATED_MODALITIES = ['temperature', 'humidity', 'light', 'voltage'] as const;

/** Node positions: a jittered grid, about 6 m per node side. */
export function simulateNodes(count: number, seed = 1): SimulatedNode[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`nodes must be a positive integer, got ${count}`);
  const rng = createRng(seed * 7919 + 1);
  const side = Math.ceil(Math.sqrt(count));
  const spacing = 6;
  return Array.from({ length: count }, (_, i) => ({
    id: String(i + 1),
    x: Number(((i % side) * spacing + rng.next() * spacing * 0.6).toFixed(2)),
    y: Number((Math.floor(i / side) * spacing + rng.next() * spacing * 0.6).toFixed(2)),
  }));
}

/** Width of one simulated floor, m: a network wider than this (over about 4,400 nodes) is floors that mirror each other. */
export const FLOOR_M = 400;

/**
 * A coordinate as the floor's gradients see it: itself on the first floor, mirrored on the next, and so on. The
 * gradients are linear in position, so without floors a network of 100,000 nodes (1.9 km a side) read up to 100 °C
 * and −95 %RH at its far corner, and ingest rejected a third of its readings as implausible.
 */
export function onFloor(position: number): number {
  // Exact on the first floor (fmod of a smaller value is the value): networks up to its width read as before.
  const within = Math.abs(position) % (2 * FLOOR_M);
  return within <= FLOOR_M ? within : 2 * FLOOR_M - within;
}

/** The node positions in the IBRL `node.txt` format (`id x y`), which the topology loader reads. */
export function simulatedTopologyText(nodes: SimulatedNode[]): string {
  return nodes.map((n) => `${n.id} ${n.x} ${n.y}`).join('\n') + '\n';
}

/** Writes the simulated network's positions for `wsn-watch topology ...` (IBRL text format). */
export function writeSimulatedTopology(
  file: string,
  options: Pick<SimulationOptions, 'nodes' | 'seed'>,
): SimulatedNode[] {
  const nodes = simulateNodes(options.nodes, options.seed ?? 1);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, simulatedTopologyText(nodes));
  return nodes;
}

function planFaults(nodes: SimulatedNode[], rng: Rng, startTs: number, tickMs: number): SimulatedFault[] {
  // About one node in ten gets one fault, somewhere in the first day of ticks.
  const kinds: SimulatedFaultKind[] = ['stuck', 'spike', 'drift', 'dropout'];
  const modalities = ['temperature', 'humidity', 'light'];
  const count = Math.max(1, Math.round(nodes.length / 10));
  const picked = [...nodes].sort(() => rng.next() - 0.5).slice(0, count);
  return picked.map((node, i) => {
    const kind = kinds[i % kinds.length];
    const from = startTs + (30 + rng.int(200)) * tickMs;
    const ticks = kind === 'spike' ? 3 : kind === 'dropout' ? 40 : 30;
    return {
      node: node.id,
      kind,
      modality: kind === 'dropout' ? '*' : rng.pick(modalities),
      fromTs: from,
      toTs: from + (ticks - 1) * tickMs,
    };
  });
}

/**
 * A simulated network: its nodes, its planned faults, and the readings of any
 * round, computed on demand (no state grows with time).
 */
export class Simulation {
  readonly nodes: SimulatedNode[];
  readonly faults: SimulatedFault[];
  readonly network: string;
  readonly tickMs: number;
  readonly startTs: number;
  private readonly seed: number;
  private readonly lossRate: number;
  private readonly offsets: Array<{ t: number; h: number; v: number; phase: number }>;
  private readonly stuckValues = new Map<string, number>();

  constructor(options: SimulationOptions) {
    this.seed = options.seed ?? 1;
    this.network = options.network ?? 'default';
    this.tickMs = options.tickMs ?? 31_000;
    this.startTs = options.startTs ?? Math.floor(Date.now() / this.tickMs) * this.tickMs;
    this.lossRate = options.lossRate ?? 0.03;
    this.nodes = simulateNodes(options.nodes, this.seed);
    const rng = createRng(this.seed);
    this.offsets = this.nodes.map(() => ({
      t: rng.normal() * 0.6,
      h: rng.normal() * 2,
      v: 2.55 + rng.next() * 0.25,
      phase: rng.normal() * 0.05,
    }));
    this.faults = options.faults ? planFaults(this.nodes, rng, this.startTs, this.tickMs) : [];
  }

  /** The readings of round `k` (tick start startTs + k·tickMs), in node order. */
  round(k: number): Reading[] {
    const tick = this.startTs + k * this.tickMs;
    const out: Reading[] = [];
    this.nodes.forEach((node, i) => {
      // One generator per (round, node): any round can be computed alone, and a seed fixes everything.
      const rng = createRng((this.seed * 1_000_003) ^ (k * 7_919) ^ (i * 104_729));
      if (rng.next() < this.lossRate) return;
      const faults = this.faults.filter((f) => f.node === node.id && tick >= f.fromTs && tick <= f.toTs);
      if (faults.some((f) => f.kind === 'dropout')) return;
      const ts = tick + Math.floor(rng.next() * this.tickMs * 0.8);
      const values = this.values(node, i, ts, rng);
      for (const fault of faults) {
        const key = `${node.id}/${fault.modality}/${fault.fromTs}`;
        const ticksIn = Math.round((tick - fault.fromTs) / this.tickMs);
        if (fault.kind === 'stuck') {
          if (!this.stuckValues.has(key)) this.stuckValues.set(key, values[fault.modality]);
          values[fault.modality] = this.stuckValues.get(key) as number;
        } else if (fault.kind === 'spike') values[fault.modality] += fault.modality === 'light' ? 800 : 15;
        else if (fault.kind === 'drift')
          values[fault.modality] += (ticksIn + 1) * (fault.modality === 'light' ? 20 : 0.4);
      }
      for (const m of SIMULATED_MODALITIES) values[m] = Number(values[m].toFixed(4));
      out.push({ network: this.network, node: node.id, ts, values });
    });
    return out;
  }

  private values(node: SimulatedNode, i: number, ts: number, rng: Rng): Record<string, number> {
    const o = this.offsets[i];
    const dayPhase = ((ts % DAY_MS) / DAY_MS) * 2 * Math.PI;
    // Warmest mid-afternoon; a gentle gradient across the floor; per-node offset; sensor noise.
    const x = onFloor(node.x);
    const y = onFloor(node.y);
    const temperature =
      21 + 3.5 * Math.sin(dayPhase - Math.PI * 0.6 + o.phase) + 0.04 * x - 0.02 * y + o.t + rng.normal() * 0.08;
    const humidity = 42 - 1.8 * (temperature - 21) + 0.03 * y + o.h + rng.normal() * 0.3;
    const daylight = Math.max(0, Math.sin(dayPhase - Math.PI / 2));
    const light = Math.max(0, 40 + 450 * daylight * (1 + 0.002 * x) + rng.normal() * 8);
    const days = (ts - this.startTs) / DAY_MS;
    const voltage = o.v - 0.01 * days + rng.normal() * 0.003;
    return { temperature, humidity, light, voltage };
  }
}

/** The readings of rounds 0 … ticks−1 (forever without `ticks`), in event-time order. */
export function* simulationReadings(simulation: Simulation, ticks?: number, signal?: AbortSignal): Generator<Reading> {
  for (let k = 0; ticks === undefined || k < ticks; k++) {
    if (signal?.aborted) return;
    yield* simulation.round(k).sort((a, b) => a.ts - b.ts);
  }
}

export interface RunSimulationOptions {
  producer: TransportProducer;
  /** Default wsn.readings. */
  topic?: string;
  /** Rounds to send; default: until `signal` aborts. */
  ticks?: number;
  /** Event-time speed-up (default 1 = live); Infinity = as fast as possible. */
  speed?: number;
  signal?: AbortSignal;
  onProgress?: (progress: PublishProgress) => void;
}

/**
 * Sends a simulation's readings to a transport producer, paced by event time:
 * what `wsn-watch simulate` and the embedded demo run.
 */
export function runSimulation(simulation: Simulation, options: RunSimulationOptions): Promise<PublishProgress> {
  return publishPaced(simulationReadings(simulation, options.ticks, options.signal), {
    producer: options.producer,
    topic: options.topic ?? TOPICS.readings,
    speed: options.speed ?? 1,
    signal: options.signal,
    onProgress: options.onProgress,
  });
}
