/**
 * The paper's injected anomalies: one per check point, on a random mote and
 * modality, of the kind the paper's rule picks, injected into the RAW series
 * (as the GLSL authors do) and normalized afterwards with the training
 * statistics.
 */
import type { Rng } from '../../common/random.ts';
import {
  type Injection,
  type PaperKindChoice,
  type PaperKindOptions,
  injectAnomaly,
  paperKind,
} from '../../sources/inject.ts';
import { type ModalityStats, normalizeSeries } from '../../sources/normalize.ts';
import type { Series } from '../../sources/series.ts';
import type { InjectedCase } from './protocol.ts';

export interface PlannedInjection {
  checkPoint: number;
  injection: Injection;
  choice: PaperKindChoice;
}

/**
 * The per-modality ranges saved with the GLSL authors' code
 * (processed/IBRL/max_min.pt) for temperature, humidity and voltage. Their
 * surges add, and their ramps move by 1/40 of, these.
 */
export const AUTHORS_IBRL_RANGES: Readonly<Record<string, { min: number; max: number }>> = {
  temperature: { min: 16.4408, max: 32.258 },
  humidity: { min: 20.3297, max: 47.3752 },
  voltage: { min: 2.47467, max: 2.77533 },
};

/** Statistics whose modality ranges are replaced by given ones (for modalities listed). */
export function withModalityRanges(
  stats: ModalityStats,
  ranges: Readonly<Record<string, { min: number; max: number }>>,
): ModalityStats {
  const modalityMin = stats.modalityMin.slice();
  const modalityMax = stats.modalityMax.slice();
  stats.modalities.forEach((m, i) => {
    const r = ranges[m];
    if (r) {
      modalityMin[i] = r.min;
      modalityMax[i] = r.max;
    }
  });
  return { ...stats, modalityMin, modalityMax };
}

export interface PlanOptions {
  injectionLength: number;
  window: number;
  /** Index of each node's nearest node (by position), for the paper's inter-node rule. */
  nearest: readonly number[];
  kind?: PaperKindOptions;
  /** What a mirror does: 'sign' (GLSL, default) or 'reciprocal' (x⁻¹, GLSL+). */
  mirror?: 'sign' | 'reciprocal';
}

/** How a protocol variant draws and shapes its injections, beyond check points and length. */
export type InjectionStyle = Pick<PlanOptions, 'kind' | 'mirror'>;

/**
 * Draws node, modality and kind for every check point. Correlations and the
 * trend are measured on the raw data around the check point,
 * [t − length, t + window), as the authors' test script does.
 */
export function planPaperInjections(
  raw: Series,
  checkPoints: readonly number[],
  rng: Rng,
  options: PlanOptions,
): PlannedInjection[] {
  return checkPoints.map((checkPoint) => {
    const node = rng.int(raw.nodes.length);
    const modality = rng.int(raw.modalities.length);
    const span = {
      from: Math.max(0, checkPoint - options.injectionLength),
      to: Math.min(raw.steps, checkPoint + options.window),
    };
    const choice = paperKind(raw, node, modality, raw, options.nearest[node], rng, { ...options.kind, span });
    // 'zero' pivot: the authors scale and mirror the raw reading itself.
    const injection: Injection = {
      kind: choice.kind,
      node,
      modality,
      start: checkPoint,
      length: options.injectionLength,
      pivot: 'zero',
    };
    if (choice.magnitude !== undefined) injection.magnitude = choice.magnitude;
    if (choice.kind === 'mirror' && options.mirror === 'reciprocal') injection.mirror = 'reciprocal';
    return { checkPoint, injection, choice };
  });
}

/** The normalized series of each planned injection, built one at a time (each is a full copy). */
export function* injectedCases(
  raw: Series,
  plan: readonly PlannedInjection[],
  injectionStats: ModalityStats,
  normalization: ModalityStats,
): Generator<InjectedCase> {
  for (const p of plan) {
    yield {
      checkPoint: p.checkPoint,
      node: p.injection.node,
      series: normalizeSeries(injectAnomaly(raw, p.injection, injectionStats), normalization),
    };
  }
}

/** How many injections of each kind a plan holds. */
export function kindCounts(plan: readonly PlannedInjection[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of plan) counts[p.injection.kind] = (counts[p.injection.kind] ?? 0) + 1;
  return counts;
}
