import type { Rng } from '../../common/random.ts';
import {
  FAULT_CATALOGUE,
  affectedSpan,
  drawFault,
  faultLabelSpan,
  injectAnomaly,
  type FaultSpec,
  type Injection,
} from '../../sources/inject.ts';
import { modalityRange, type ModalityStats } from '../../sources/normalize.ts';
import type { Series } from '../../sources/series.ts';
import { computeContext, type ContextConfig } from '../context.ts';
import type { TrainingInjector } from './injections.ts';

/**
 * A whole z-normalized series with faults of the catalogue injected, its
 * ground truth per node × tick and the slow context computed over all of it
 * (so the context of a window is what a stream that ran from step 0 has).
 */
export interface FaultyCopy {
  series: Series;
  /** steps × N: 1 where the node is faulty (any modality). */
  labels: Uint8Array;
  /** steps × N × M × F context features (model/context.ts). */
  context: Float32Array;
  injections: Injection[];
}

export interface FaultCopyOptions {
  /** Faults start in [from, to) and end before `to`. */
  from: number;
  to: number;
  /** Mean ticks between the end of one fault of a node and the start of its next. */
  meanGap: number;
  /** Share of faults drawn from the paper's kinds (1–10 ticks, raw units) instead of the catalogue. */
  paperShare: number;
  /** Cap on a fault's length (e.g. a validation tail). */
  maxLength?: number;
}

/** The catalogue entries that apply to a modality (a dying battery only to a voltage). */
export function specsFor(modality: string): FaultSpec[] {
  return FAULT_CATALOGUE.filter((spec) => !spec.modality || spec.modality.test(modality));
}

/**
 * Injects faults node by node along the time axis (one fault per node at a
 * time, exponential gaps), catalogue kinds in z-units, a share of the paper's
 * short kinds through the training injector (raw units when it has them).
 */
export function buildFaultyCopy(
  clean: Series,
  adjacency: number[][],
  contextConfig: ContextConfig,
  zStats: ModalityStats,
  paperInjector: TrainingInjector,
  rng: Rng,
  options: FaultCopyOptions,
): FaultyCopy {
  const n = clean.nodes.length;
  const m = clean.modalities.length;
  let series = clean;
  const labels = new Uint8Array(clean.steps * n);
  const injections: Injection[] = [];
  for (let node = 0; node < n; node++) {
    let t = options.from + Math.floor(rng.next() * options.meanGap);
    while (t < options.to - 2) {
      const modality = rng.int(m);
      const room = options.to - t;
      let injection: Injection;
      if (rng.next() < options.paperShare) {
        const drawn = paperInjector.draw(series, rng, {
          minLength: 1,
          maxLength: Math.max(1, Math.min(10, Math.floor(room / 2))),
        });
        injection = { ...drawn, node, modality: drawn.modality, start: t };
        series = paperInjector.apply(series, injection);
      } else {
        const specs = specsFor(clean.modalities[modality]);
        const spec = specs[rng.int(specs.length)];
        const std = zStats.std[node * m + modality] || 1;
        injection = drawFault(
          spec,
          rng,
          { node, modality, start: t },
          std,
          modalityRange(zStats, modality),
          Math.min(room - 1, options.maxLength ?? Infinity),
        );
        if (injection.length < spec.minTicks) break;
        series = injectAnomaly(series, injection, zStats);
      }
      const span =
        injection.kind === 'decay' ||
        injection.kind === 'increase' ||
        injection.kind === 'scale' ||
        injection.kind === 'mirror' ||
        injection.kind === 'surge'
          ? affectedSpan(injection, clean.steps)
          : faultLabelSpan(injection, clean, series, zStats.std[node * m + injection.modality] || 1);
      for (let s = span.start; s < span.end; s++) labels[s * n + node] = 1;
      injections.push(injection);
      t = affectedSpan(injection, clean.steps).end + 1 + Math.floor(-Math.log(1 - rng.next()) * options.meanGap);
    }
  }
  const context = computeContext(series.data, series.steps, n, m, adjacency, contextConfig);
  return { series, labels, context, injections };
}

/** Longest fault of the catalogue: a cap on fault length at or above it changes nothing. */
const LONGEST_CATALOGUE_FAULT = Math.max(...FAULT_CATALOGUE.map((spec) => spec.maxTicks));

/** Mean ticks between two faults of one node in a faulty copy of a long training part (about one node in ten is faulty at a time). */
export const FAULT_MEAN_GAP = 1500;

/**
 * Where and how densely the faults of a training part's faulty copies go.
 *
 * A long part (2,400 steps or more: 3 × the longest catalogue fault) gets
 * the plan the shipped models were trained with: gaps of FAULT_MEAN_GAP
 * and faults as long as the catalogue draws them (only the end of the part
 * caps them), so a node is faulty about a tenth of the time.
 *
 * A shorter part keeps that share. Its faults are capped at a third of the
 * part, and the gap shrinks with the part (1.25 × its steps, at least 50)
 * only below 1,200 steps. Shrinking the gap alone (as before) left the
 * faults catalogue-long: a node of a 300-step part was faulty a quarter of
 * the time, over 90 % of an 8-node cluster's windows held a fault, and the
 * model learnt a fault as the norm (validation loss rose from the first epoch).
 */
export function faultCopyPlan(trainSteps: number, paperShare: number): FaultCopyOptions {
  const meanGap = Math.min(FAULT_MEAN_GAP, Math.max(50, Math.floor(trainSteps * 1.25)));
  const cap = Math.max(1, Math.floor(trainSteps / 3));
  return { from: 1, to: trainSteps, meanGap, paperShare, ...(cap < LONGEST_CATALOGUE_FAULT ? { maxLength: cap } : {}) };
}
