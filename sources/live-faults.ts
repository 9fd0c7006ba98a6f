/**
 * Faults of the sensor-fault taxonomy (Ni et al. 2009; Sharma et al. 2010)
 * injected into raw readings at their own timestamps, for the live-path
 * evaluation: they last from one tick to hours, and act on the readings a
 * gateway would send, not on an aligned grid.
 *
 * Kinds (names as in the taxonomy):
 * - spike: one to three ticks far from the course (±magnitude σ);
 * - stuck: the last value before the fault, repeated;
 * - noise: Gaussian noise of std magnitude σ added;
 * - offset: the course shifted by ±magnitude σ;
 * - gain: deviations from the node's usual level scaled by magnitude;
 * - drift: a ramp from 0 to ±magnitude σ over the fault;
 * - dropout: intermittent silence (readings dropped in blocks).
 *
 * σ is the modality's spread, given by the caller (e.g. the pooled std of
 * clean training data), so one magnitude means the same for every modality.
 */
import { lowerBound } from '../common/lower-bound.ts';
import { createRng, type Rng } from '../common/random.ts';
import type { Reading } from '../common/types.ts';
import { TAXONOMY_FAULT_KINDS, type TaxonomyFaultKind } from './fault-catalogue.ts';
import { HOUR_MS } from '../common/constants.ts';

/** The catalogue's taxonomy kinds this injector acts out on raw readings (a dying battery is left to training). */
export type LiveFaultKind = Exclude<TaxonomyFaultKind, 'battery'>;
export const LIVE_FAULT_KINDS: readonly LiveFaultKind[] = TAXONOMY_FAULT_KINDS.filter(
  (kind): kind is LiveFaultKind => kind !== 'battery',
);

export interface LiveFault {
  kind: LiveFaultKind;
  node: string;
  modality: string;
  /** First and last faulty instant, UTC ms (inclusive). */
  start: number;
  end: number;
  /** In σ for spike, noise, offset, drift (signed); a factor for gain; unused for stuck and dropout. */
  magnitude: number;
  /** The node's usual level of the modality (gain pivots on it). */
  level?: number;
}

/** How each kind is sized and how long it lasts, in ticks. */
export interface FaultRecipe {
  kind: LiveFaultKind;
  /** Shortest and longest duration, ticks. */
  ticks: [number, number];
  /** Magnitude; signed kinds get a random sign. */
  magnitude: number;
}

/** Defaults: durations from one tick to hours (at 31 s ticks: 116 ticks ≈ 1 h). */
export function defaultRecipes(tickMs: number): FaultRecipe[] {
  const hours = (h: number): number => Math.max(1, Math.round((h * HOUR_MS) / tickMs));
  return [
    { kind: 'spike', ticks: [1, 3], magnitude: 6 },
    { kind: 'stuck', ticks: [hours(1), hours(6)], magnitude: 0 },
    { kind: 'noise', ticks: [hours(0.5), hours(3)], magnitude: 1 },
    { kind: 'offset', ticks: [hours(1), hours(6)], magnitude: 2 },
    { kind: 'gain', ticks: [hours(1), hours(6)], magnitude: 2.5 },
    // The drift the issue names: 3 σ over 3 hours.
    { kind: 'drift', ticks: [hours(3), hours(3)], magnitude: 3 },
    { kind: 'dropout', ticks: [hours(0.5), hours(3)], magnitude: 0 },
  ];
}

export interface PlanOptions {
  nodes: readonly string[];
  modalities: readonly string[];
  /** Faults start in [from, to) and end before `to`. */
  from: number;
  to: number;
  tickMs: number;
  /** Clean ticks between one fault's end and the next one's start (no two faults at once: localization stays measurable). */
  gapTicks: number;
  /** How many of each kind, in this order of preference when time runs short. */
  recipes: readonly FaultRecipe[];
  perKind: number;
  /** Usual level of each node × modality (`${node}\u0000${modality}`), for gain. */
  levels?: ReadonlyMap<string, number>;
  /**
   * The readings the faults go into (event-time order). Given, a spike starts
   * at the tick of its node's next delivered reading: a spike of one to three
   * ticks on rounds the node did not deliver changes no reading, and no
   * detector can see a fault that is not in the data.
   */
  readings?: readonly Reading[];
  rng: Rng;
}

/** Per node, the timestamps of its readings (ascending). */
function deliveries(readings: readonly Reading[]): Map<string, number[]> {
  const byNode = new Map<string, number[]>();
  for (const reading of readings) {
    let list = byNode.get(reading.node);
    if (!list) byNode.set(reading.node, (list = []));
    list.push(reading.ts);
  }
  return byNode;
}

/** The start of the tick holding the node's first reading at or after `at` (`at` itself when none is known). */
function nextDelivered(times: readonly number[] | undefined, at: number, tickMs: number): number {
  if (!times) return at;
  const first = lowerBound(times, at);
  return first < times.length ? Math.floor(times[first] / tickMs) * tickMs : at;
}

/**
 * One fault at a time, in a shuffled order of kinds, each on a random node
 * and modality, separated by `gapTicks` of clean data; kinds that no longer
 * fit before `to` are left out.
 */
export function planLiveFaults(options: PlanOptions): LiveFault[] {
  const { rng, tickMs } = options;
  const queue: FaultRecipe[] = [];
  for (let i = 0; i < options.perKind; i++) queue.push(...options.recipes);
  for (let i = queue.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [queue[i], queue[j]] = [queue[j], queue[i]];
  }
  const faults: LiveFault[] = [];
  const delivered = options.readings ? deliveries(options.readings) : undefined;
  let at = Math.ceil(options.from / tickMs) * tickMs + options.gapTicks * tickMs;
  for (const recipe of queue) {
    const ticks = recipe.ticks[0] + rng.int(recipe.ticks[1] - recipe.ticks[0] + 1);
    if (at + ticks * tickMs - 1 + options.gapTicks * tickMs >= options.to) continue;
    const node = options.nodes[rng.int(options.nodes.length)];
    const modality = options.modalities[rng.int(options.modalities.length)];
    const sign = rng.next() < 0.5 ? -1 : 1;
    const start = recipe.kind === 'spike' && delivered ? nextDelivered(delivered.get(node), at, tickMs) : at;
    const end = start + ticks * tickMs - 1;
    if (end + options.gapTicks * tickMs >= options.to) continue;
    const signed = recipe.kind === 'spike' || recipe.kind === 'offset' || recipe.kind === 'drift';
    faults.push({
      kind: recipe.kind,
      node,
      modality,
      start,
      end,
      magnitude: signed ? sign * recipe.magnitude : recipe.magnitude,
      ...(recipe.kind === 'gain' ? { level: options.levels?.get(`${node}\u0000${modality}`) } : {}),
    });
    at = end + 1 + options.gapTicks * tickMs;
  }
  return faults;
}

/** Dropout blocks: 15 minutes silent, 5 minutes reporting, repeated. */
const DROPOUT_SILENT_MS = 15 * 60_000;
const DROPOUT_PERIOD_MS = 20 * 60_000;

/**
 * Applies faults to readings (in event-time order) and returns new readings;
 * `sigma` per modality sizes them. The input is not modified.
 */
export function applyLiveFaults(
  readings: readonly Reading[],
  faults: readonly LiveFault[],
  sigma: Readonly<Record<string, number>>,
  seed: number,
): Reading[] {
  const rng = createRng(seed ^ 0x1f4017);
  const byNode = new Map<string, LiveFault[]>();
  for (const fault of faults) byNode.set(fault.node, [...(byNode.get(fault.node) ?? []), fault]);
  /** Last clean value per node × modality, for stuck. */
  const lastClean = new Map<string, number>();
  const frozen = new Map<LiveFault, number>();
  const out: Reading[] = [];
  for (const reading of readings) {
    const active = (byNode.get(reading.node) ?? []).filter((f) => reading.ts >= f.start && reading.ts <= f.end);
    if (active.length === 0) {
      for (const [m, v] of Object.entries(reading.values)) lastClean.set(`${reading.node}\u0000${m}`, v);
      out.push(reading);
      continue;
    }
    if (active.some((f) => f.kind === 'dropout' && (reading.ts - f.start) % DROPOUT_PERIOD_MS < DROPOUT_SILENT_MS))
      continue;
    const values = { ...reading.values };
    for (const fault of active) {
      const v = values[fault.modality];
      if (v === undefined) continue;
      const s = sigma[fault.modality] ?? 1;
      switch (fault.kind) {
        case 'spike':
        case 'offset':
          values[fault.modality] = v + fault.magnitude * s;
          break;
        case 'drift':
          values[fault.modality] =
            v + fault.magnitude * s * ((reading.ts - fault.start) / Math.max(1, fault.end - fault.start));
          break;
        case 'noise':
          values[fault.modality] = v + fault.magnitude * s * rng.normal();
          break;
        case 'gain': {
          const level = fault.level ?? v;
          values[fault.modality] = level + fault.magnitude * (v - level);
          break;
        }
        case 'stuck': {
          if (!frozen.has(fault)) frozen.set(fault, lastClean.get(`${reading.node}\u0000${fault.modality}`) ?? v);
          values[fault.modality] = frozen.get(fault)!;
          break;
        }
        case 'dropout':
          break;
      }
    }
    out.push({ ...reading, values });
  }
  return out;
}
