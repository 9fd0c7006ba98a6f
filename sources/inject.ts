/**
 * Synthetic anomalies, as the GLSL paper injects them into IBRL data, plus a
 * few more kinds (stuck, drift, noise) for training negatives.
 *
 * Every kind works in whatever space the series and the statistics share:
 * raw units for the paper's protocol (the authors inject into raw readings and
 * normalize afterwards), z-scores when a caller injects into normalized data.
 */
import { PAPER_FAULT_KINDS, type FaultKind } from './fault-catalogue.ts';
import { type Rng, createRng } from '../common/random.ts';
import { type Series, cloneSeries, seriesIndex } from './series.ts';
import { type ModalityStats, modalityRange } from './normalize.ts';

/** The paper's kinds, plus stuck, drift and noise from the taxonomy. */
export const INJECTION_KINDS = [
  ...PAPER_FAULT_KINDS,
  'stuck',
  'drift',
  'noise',
] as const satisfies readonly FaultKind[];
export type InjectionKind = (typeof INJECTION_KINDS)[number];

/**
 * Kinds of the sensor-fault taxonomy beyond the paper's (docs/sensor-faults.md):
 * spike (1–3 ticks), offset, gain, intermittent dropout (readings missing and
 * held by the aligner) and a dying battery (accelerating decline with growing
 * noise). Stuck-at, drift and high noise are INJECTION_KINDS already.
 */
export const TAXONOMY_KINDS = ['spike', 'offset', 'gain', 'dropout', 'battery'] as const satisfies readonly FaultKind[];
export type TaxonomyKind = (typeof TAXONOMY_KINDS)[number];
// Between them, the two lists inject every kind of the catalogue (a test checks it).
export type { FaultKind };

/** The kinds the paper uses when a series has no strong correlation to exploit. */
export const PAPER_POINT_KINDS = ['scale', 'mirror', 'surge'] as const satisfies readonly InjectionKind[];

export interface Injection {
  kind: FaultKind;
  /** Node index in the series. */
  node: number;
  /** Modality index in the series. */
  modality: number;
  /** First affected step. */
  start: number;
  /** Number of anomalous steps. Ramps (decay, increase) also take `length` more steps to come back. */
  length: number;
  /**
   * Size of the anomaly; the default per kind:
   * - scale: factor (default 1.5)
   * - surge: added offset (default: the modality's training range)
   * - decay / increase / drift: step per sample (default: range / 40)
   * - noise: std of the added Gaussian noise (default: 2 × the node's training std)
   * - spike, offset: added offset (default: 5 / 3 × the node's training std)
   * - gain: factor around the pivot (default 1.5)
   * - battery: total departure at the end (default +6 × the node's training std), quadratic, noise growing to a quarter of it
   * - mirror, stuck, dropout: unused
   */
  magnitude?: number;
  /**
   * What scale and mirror act around. 'mean' (default): the node × modality
   * training mean, so the anomaly means the same in raw and normalized space.
   * 'zero': the raw value itself, as the GLSL authors do (×0.5 of 20 °C is 10 °C;
   * a mirror of 20 °C is −20 °C).
   */
  pivot?: 'mean' | 'zero';
  /**
   * How a mirror turns the value over. 'sign' (default): around the pivot
   * (2 × pivot − x). 'reciprocal': x⁻¹ of the value itself, the "mirror" of the
   * authors' GLSL+ code (an exact zero is nudged to 1e-5 first, as theirs is).
   */
  mirror?: 'sign' | 'reciprocal';
}

/** The paper's ramp divisor: ramps move by range / 40 per sample. */
export const PAPER_RAMP_DIVISOR = 40;

function statsPosition(stats: ModalityStats, series: Series, node: number, modality: number): number {
  const id = series.nodes[node];
  const i = stats.nodes.indexOf(id);
  if (i < 0) throw new Error(`injectAnomaly: node ${id} has no statistics`);
  return i * stats.modalities.length + modality;
}

/** Seed for the noise kind, so the same injection always adds the same noise. */
function noiseSeed(injection: Injection): number {
  return (
    (injection.node * 73856093) ^ (injection.modality * 19349663) ^ (injection.start * 83492791) ^ injection.length
  );
}

/** The steps an injection changes: [start, end). Ramps come back over a second `length`. */
export function affectedSpan(injection: Injection, steps: number): { start: number; end: number } {
  const extra = injection.kind === 'decay' || injection.kind === 'increase' ? injection.length : 0;
  return { start: injection.start, end: Math.min(steps, injection.start + injection.length + extra) };
}

/** Throws a RangeError naming what of an injection does not fit the series. */
function checkInjection(series: Series, injection: Injection): void {
  const { node, modality, start, length } = injection;
  if (node < 0 || node >= series.nodes.length)
    throw new RangeError(`injectAnomaly: node index ${node} outside 0..${series.nodes.length - 1}`);
  if (modality < 0 || modality >= series.modalities.length)
    throw new RangeError(`injectAnomaly: modality index ${modality} outside 0..${series.modalities.length - 1}`);
  if (!Number.isInteger(start) || start < 1 || start >= series.steps) {
    // Ramps and stuck values build on the sample before the anomaly, so step 0 cannot start one.
    throw new RangeError(`injectAnomaly: start ${start} outside 1..${series.steps - 1}`);
  }
  if (!Number.isInteger(length) || length < 1)
    throw new RangeError(`injectAnomaly: length ${length} must be a positive integer`);
}

/** Bursts of 1–8 missing readings between 1–4 delivered ones; a missing reading holds the last delivered value, as the aligner fills it. */
function holdDropouts(d: Float32Array, at: (t: number) => number, start: number, end: number, seed: number): void {
  const rng = createRng(seed);
  let held = d[at(start - 1)];
  let missing = true;
  let left = 1 + rng.int(8);
  for (let t = start; t < end; t++) {
    if (missing) d[at(t)] = held;
    else held = d[at(t)];
    if (--left === 0) {
      missing = !missing;
      left = missing ? 1 + rng.int(8) : 1 + rng.int(4);
    }
  }
}

/** A dying battery: a quadratic departure reaching `total` at the end, with noise growing to a quarter of it. */
function addBatteryDecline(
  d: Float32Array,
  at: (t: number) => number,
  start: number,
  end: number,
  length: number,
  total: number,
  seed: number,
): void {
  const rng = createRng(seed);
  for (let t = start; t < end; t++) {
    const progress = (t - start + 1) / length;
    d[at(t)] += total * progress * progress + 0.25 * Math.abs(total) * progress * rng.normal();
  }
}

/** The GLSL+ mirror of one value: 1 / x, with an exact zero nudged to 1e-5 first. */
export function reciprocal(value: number): number {
  return 1 / (value === 0 ? 1e-5 : value);
}

/** A copy of `series` with one anomaly injected. */
export function injectAnomaly(series: Series, injection: Injection, stats: ModalityStats): Series {
  checkInjection(series, injection);
  const { node, modality, start, length, kind } = injection;

  const out = cloneSeries(series);
  const d = out.data;
  const at = (t: number): number => seriesIndex(out, t, node, modality);
  const s = statsPosition(stats, series, node, modality);
  const range = modalityRange(stats, modality);
  const end = Math.min(series.steps, start + length);
  const pivot = injection.pivot === 'zero' ? 0 : stats.mean[s];

  const std = stats.std[s] > 0 ? stats.std[s] : 1;
  switch (kind) {
    case 'gain':
    case 'scale': {
      const factor = injection.magnitude ?? 1.5;
      for (let t = start; t < end; t++) d[at(t)] = pivot + (d[at(t)] - pivot) * factor;
      break;
    }
    case 'mirror':
      if (injection.mirror === 'reciprocal') for (let t = start; t < end; t++) d[at(t)] = reciprocal(d[at(t)]);
      else for (let t = start; t < end; t++) d[at(t)] = 2 * pivot - d[at(t)];
      break;
    case 'surge': {
      const offset = injection.magnitude ?? range;
      for (let t = start; t < end; t++) d[at(t)] += offset;
      break;
    }
    case 'decay':
    case 'increase': {
      // GLSL's ramp: each anomalous sample moves one step from the previous
      // (already modified) sample, then the same number of samples walk back.
      const step = (injection.magnitude ?? range / PAPER_RAMP_DIVISOR) * (kind === 'decay' ? -1 : 1);
      for (let t = start; t < end; t++) d[at(t)] = d[at(t - 1)] + step;
      const back = Math.min(series.steps, end + length);
      for (let t = end; t < back; t++) d[at(t)] = d[at(t - 1)] - step;
      break;
    }
    case 'stuck': {
      const held = d[at(start - 1)];
      for (let t = start; t < end; t++) d[at(t)] = held;
      break;
    }
    case 'drift': {
      const step = injection.magnitude ?? range / PAPER_RAMP_DIVISOR;
      for (let t = start; t < end; t++) d[at(t)] += step * (t - start + 1);
      break;
    }
    case 'noise': {
      const sigma = injection.magnitude ?? 2 * stats.std[s];
      const rng = createRng(noiseSeed(injection));
      for (let t = start; t < end; t++) d[at(t)] += sigma * rng.normal();
      break;
    }
    case 'spike':
    case 'offset': {
      const offset = injection.magnitude ?? (kind === 'spike' ? 5 : 3) * std;
      for (let t = start; t < end; t++) d[at(t)] += offset;
      break;
    }
    case 'dropout':
      holdDropouts(d, at, start, end, noiseSeed(injection));
      break;
    case 'battery':
      addBatteryDecline(d, at, start, end, length, injection.magnitude ?? 6 * std, noiseSeed(injection));
      break;
  }
  return out;
}

/** One entry of the fault catalogue: how long a fault of this kind lasts and how large it is drawn. */
export interface FaultSpec {
  kind: FaultKind;
  /** Duration bounds in ticks (inclusive); drawn log-uniformly, so short and very long faults both occur. */
  minTicks: number;
  maxTicks: number;
  /** Only for modalities whose name matches (a dying battery makes the temperature climb, docs/sensor-faults.md). */
  modality?: RegExp;
  /**
   * Magnitude in the series' units, from the node's std and the modality's
   * range; undefined = the kind's default.
   */
  magnitude(rng: Rng, std: number, range: number, length: number): number | undefined;
  /** Labelled only once the reading departs this many node stds from the clean one (slow kinds); otherwise every tick of the span. */
  labelDeparture?: number;
}

const sign = (rng: Rng): number => (rng.next() < 0.5 ? -1 : 1);
const between = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.next();

/**
 * The fault catalogue training samples from (and the evaluation injects):
 * the sensor-fault taxonomy from a single tick to many hours. Lengths are in
 * ticks; 1,000 ticks ≈ a day of the paper's IBRL alignment, 8.6 hours at 31 s.
 */
export const FAULT_CATALOGUE: readonly FaultSpec[] = [
  { kind: 'spike', minTicks: 1, maxTicks: 3, magnitude: (rng, std) => sign(rng) * between(rng, 3, 10) * std },
  { kind: 'stuck', minTicks: 10, maxTicks: 800, magnitude: () => undefined },
  { kind: 'noise', minTicks: 10, maxTicks: 800, magnitude: (rng, std) => between(rng, 1, 3) * std },
  { kind: 'offset', minTicks: 5, maxTicks: 800, magnitude: (rng, std) => sign(rng) * between(rng, 1.5, 5) * std },
  {
    kind: 'gain',
    minTicks: 30,
    maxTicks: 800,
    magnitude: (rng) => (rng.next() < 0.5 ? between(rng, 0.2, 0.6) : between(rng, 1.6, 3)),
  },
  // Departs 2–8 stds over its length; labelled from 1 std on.
  {
    kind: 'drift',
    minTicks: 60,
    maxTicks: 800,
    magnitude: (rng, std, _range, length) => (sign(rng) * between(rng, 2, 8) * std) / length,
    labelDeparture: 1,
  },
  { kind: 'dropout', minTicks: 20, maxTicks: 600, magnitude: () => undefined },
  // In the Intel lab data a mote's temperature climbs far above the room's as its supply voltage falls.
  {
    kind: 'battery',
    minTicks: 100,
    maxTicks: 800,
    modality: /temp/i,
    magnitude: (rng, std) => between(rng, 3, 12) * std,
    labelDeparture: 1,
  },
];

/** Draws a fault from the catalogue entry: length (log-uniform) and magnitude for a node of this std. */
export function drawFault(
  spec: FaultSpec,
  rng: Rng,
  at: { node: number; modality: number; start: number },
  std: number,
  range: number,
  maxLength = Infinity,
): Injection {
  const hi = Math.max(spec.minTicks, Math.min(spec.maxTicks, maxLength));
  const length = Math.max(1, Math.round(Math.exp(between(rng, Math.log(spec.minTicks), Math.log(hi + 1))) - 0.5));
  const clipped = Math.min(hi, Math.max(spec.minTicks, length));
  const injection: Injection = {
    kind: spec.kind,
    node: at.node,
    modality: at.modality,
    start: at.start,
    length: clipped,
  };
  const magnitude = spec.magnitude(rng, std, range, clipped);
  if (magnitude !== undefined) injection.magnitude = magnitude;
  return injection;
}

/**
 * The ticks an injected fault counts as a fault (ground truth per node ×
 * tick): its span, or for slow kinds (drift, battery) the ticks from where
 * the reading first departs `labelDeparture` node stds from the clean one.
 */
export function faultLabelSpan(
  injection: Injection,
  clean: Series,
  faulty: Series,
  std: number,
): { start: number; end: number } {
  const span = affectedSpan(injection, clean.steps);
  const spec = FAULT_CATALOGUE.find((entry) => entry.kind === injection.kind);
  if (!spec?.labelDeparture) return span;
  for (let t = span.start; t < span.end; t++) {
    const k = seriesIndex(clean, t, injection.node, injection.modality);
    if (Math.abs(faulty.data[k] - clean.data[k]) >= spec.labelDeparture * std) return { start: t, end: span.end };
  }
  return { start: span.end, end: span.end };
}

/** Pearson correlation of two equally long sequences; 0 when either is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  if (n < 2) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - ma;
    const y = b[i] - mb;
    cov += x * y;
    va += x * x;
    vb += y * y;
  }
  if (va === 0 || vb === 0) return 0;
  return cov / Math.sqrt(va * vb);
}

/** Least-squares slope of a sequence against its index. */
export function trendSlope(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  let my = 0;
  for (let i = 0; i < n; i++) my += values[i];
  my /= n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - mx) * (values[i] - my);
    den += (i - mx) ** 2;
  }
  return num / den;
}

/** The values of one node × modality over steps [from, to). */
export function channel(series: Series, node: number, modality: number, from = 0, to = series.steps): Float64Array {
  const out = new Float64Array(Math.max(0, to - from));
  for (let t = from; t < to; t++) out[t - from] = series.data[seriesIndex(series, t, node, modality)];
  return out;
}

export interface PaperKindOptions {
  /**
   * Steps of `series` the correlations and the trend are measured on. The
   * GLSL authors use the stretch around the check point, [t − length, t + window).
   * Without a span, the whole of `trainSeries` is used.
   */
  span?: { from: number; to: number };
  /** |r| with another modality of the same node above which a ramp is injected. Default 0.8. */
  intermodalThreshold?: number;
  /** |r| with the nearest node (same modality) above which a ramp is injected. Default 0.6. */
  internodeThreshold?: number;
  /**
   * Probability that a strong correlation is acted on. The README's rule acts
   * always (1, the default); the authors' test script flips a coin per
   * correlated modality (0.5) and for the nearest node (0.3).
   */
  intermodalChance?: number;
  internodeChance?: number;
}

export interface PaperKindChoice {
  kind: InjectionKind;
  /** Scale factor when kind is 'scale' (0.5 or 1.5); otherwise undefined (kind defaults). */
  magnitude?: number;
  /** Why this kind: a strong correlation with another modality or the nearest node, or none. */
  reason: 'intermodal' | 'internode' | 'uncorrelated';
  /** The correlation that decided, when one did. */
  correlation?: number;
}

/**
 * The paper's rule for the kind of anomaly at one node × modality: a series
 * that correlates strongly with another modality of its mote (|r| > 0.8) or
 * with its nearest mote (|r| > 0.6) gets a ramp against its own trend (the
 * anomaly breaks the correlation the model could lean on); otherwise one of
 * scale (×0.5 or ×1.5), mirror or surge, uniformly.
 */
export function paperKind(
  series: Series,
  node: number,
  modality: number,
  trainSeries: Series,
  nearestNode: number | undefined,
  rng: Rng,
  options: PaperKindOptions = {},
): PaperKindChoice {
  const source = options.span ? series : trainSeries;
  const from = options.span?.from ?? 0;
  const to = options.span?.to ?? trainSeries.steps;
  const own = channel(source, node, modality, from, to);
  const against = (): InjectionKind => {
    const slope = trendSlope(own);
    if (slope > 0) return 'decay';
    if (slope < 0) return 'increase';
    return rng.next() < 0.5 ? 'decay' : 'increase';
  };
  const intermodal = options.intermodalThreshold ?? 0.8;
  const internode = options.internodeThreshold ?? 0.6;
  const intermodalChance = options.intermodalChance ?? 1;
  const internodeChance = options.internodeChance ?? 1;

  for (let m = 0; m < source.modalities.length; m++) {
    if (m === modality) continue;
    const r = pearson(channel(source, node, m, from, to), own);
    if (Math.abs(r) > intermodal && (intermodalChance >= 1 || rng.next() < intermodalChance)) {
      return { kind: against(), reason: 'intermodal', correlation: r };
    }
  }
  if (nearestNode !== undefined && nearestNode !== node) {
    const r = pearson(channel(source, nearestNode, modality, from, to), own);
    if (Math.abs(r) > internode && (internodeChance >= 1 || rng.next() < internodeChance)) {
      return { kind: against(), reason: 'internode', correlation: r };
    }
  }
  const kind = rng.pick(PAPER_POINT_KINDS);
  return kind === 'scale'
    ? { kind, magnitude: rng.next() < 0.5 ? 0.5 : 1.5, reason: 'uncorrelated' }
    : { kind, reason: 'uncorrelated' };
}

export interface RandomInjectionOptions {
  /** Steps the anomaly may start in: [from, to). Default [1, steps). */
  from?: number;
  to?: number;
  /** Length bounds (inclusive). Default 3..10. */
  minLength?: number;
  maxLength?: number;
  /** Kinds to draw from. Default: all eight. */
  kinds?: readonly InjectionKind[];
}

/**
 * A random anomaly for training negatives: any kind, node, modality, start
 * and length, with a magnitude drawn around the kind's default so the model
 * sees both blatant and subtle cases.
 */
export function randomInjection(series: Series, rng: Rng, options: RandomInjectionOptions = {}): Injection {
  const kinds = options.kinds ?? INJECTION_KINDS;
  const minLength = options.minLength ?? 3;
  const maxLength = Math.max(minLength, options.maxLength ?? 10);
  const length = minLength + rng.int(maxLength - minLength + 1);
  const kind = rng.pick(kinds);
  const ramp = kind === 'decay' || kind === 'increase';
  const from = Math.max(1, options.from ?? 1);
  // Keep the whole anomaly (a ramp's way back included) inside the range.
  const lastStart = Math.min(series.steps, options.to ?? series.steps) - (ramp ? 2 * length : length);
  if (lastStart < from) {
    throw new RangeError(
      `randomInjection: no room for a ${kind} of length ${length} in steps [${from}, ${options.to ?? series.steps})`,
    );
  }
  const start = from + rng.int(lastStart - from + 1);
  const injection: Injection = {
    kind,
    node: rng.int(series.nodes.length),
    modality: rng.int(series.modalities.length),
    start,
    length,
  };
  if (kind === 'scale') injection.magnitude = rng.pick([0.5, 0.8, 1.5, 2]);
  return injection;
}
