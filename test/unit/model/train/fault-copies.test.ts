import { describe, expect, it } from 'vitest';
import { createRng } from '../../../../common/random.ts';
import { resolveModelConfig } from '../../../../model/config.ts';
import { FAULT_MEAN_GAP, buildFaultyCopy, faultCopyPlan } from '../../../../model/train/fault-copies.ts';
import { createTrainingInjector } from '../../../../model/train/injections.ts';
import { PAPER_POINT_KINDS } from '../../../../sources/inject.ts';
import { computeStats, normalizeSeries } from '../../../../sources/normalize.ts';
import { generateSyntheticNetwork } from '../../../../sources/synthetic.ts';

const PAPER_SHARE = 0.25;

/** Faulty copies of a synthetic training part of `steps` steps built with the training plan: the share of node × ticks labelled faulty, and the faults. */
function faultyCopies(
  steps: number,
  nodes: number,
  copies = 6,
): { faultyShare: number; faultsPerCopy: number[]; lengths: number[] } {
  const network = generateSyntheticNetwork({ nodes, steps, seed: 3 });
  const raw = computeStats(network.series);
  const series = normalizeSeries(network.series, raw);
  const zStats = computeStats(series);
  const config = resolveModelConfig({ modalities: series.modalities, window: 10 });
  const injector = createTrainingInjector(zStats, raw, [...PAPER_POINT_KINDS, 'decay', 'increase']);
  const rng = createRng(1);
  let faulty = 0;
  const faultsPerCopy: number[] = [];
  const lengths: number[] = [];
  for (let c = 0; c < copies; c++) {
    const copy = buildFaultyCopy(
      series,
      network.graph.adjacency,
      config.context,
      zStats,
      injector,
      rng,
      faultCopyPlan(steps, PAPER_SHARE),
    );
    for (const label of copy.labels) faulty += label;
    faultsPerCopy.push(copy.injections.length);
    lengths.push(...copy.injections.map((injection) => injection.length));
  }
  return { faultyShare: faulty / (copies * steps * nodes), faultsPerCopy, lengths };
}

describe('faulty copies of the training part', () => {
  it('keep the plan of a long part (the shipped models: 2,400 and 3,200 training steps) as it was', () => {
    for (const steps of [2400, 3200, 10_000]) {
      expect(faultCopyPlan(steps, PAPER_SHARE)).toEqual({
        from: 1,
        to: steps,
        meanGap: FAULT_MEAN_GAP,
        paperShare: PAPER_SHARE,
      });
    }
  });

  it('keep a node of a short part (a few hundred steps, a day or so) faulty about as often as one of a long part, and still hold faults', () => {
    const long = faultyCopies(2400, 8);
    // About one node-tick in ten, by design.
    expect(long.faultyShare).toBeGreaterThan(0.05);
    expect(long.faultyShare).toBeLessThan(0.15);
    for (const steps of [300, 1000]) {
      const short = faultyCopies(steps, 8);
      // Shorter gaps with catalogue-long faults made a node of a 300-step part faulty 24 % of the time (2.5 × a long part's).
      expect(short.faultyShare).toBeLessThan(1.5 * long.faultyShare);
      expect(short.faultyShare).toBeGreaterThan(0.5 * long.faultyShare);
      for (const faults of short.faultsPerCopy) expect(faults).toBeGreaterThan(0);
      for (const length of short.lengths) expect(length).toBeLessThanOrEqual(Math.floor(steps / 3));
    }
  });
});
