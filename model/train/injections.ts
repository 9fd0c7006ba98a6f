import type { Rng } from '../../common/random.ts';
import { INJECTION_KINDS, injectAnomaly, type Injection, type InjectionKind } from '../../sources/inject.ts';
import { denormalizeSeries, modalityRange, normalizeSeries, type ModalityStats } from '../../sources/normalize.ts';
import type { Series } from '../../sources/series.ts';

/**
 * Training negatives: one synthetic anomaly in one node × modality of a
 * z-normalized segment. With raw-unit statistics the anomaly is injected in
 * raw units (as the GLSL paper does, so "× 0.5" means half the reading);
 * otherwise in z-space around the node's mean.
 */
export interface TrainingInjector {
  /** Draws kind, node, modality, start (anywhere in the segment), length and magnitude. */
  draw(segment: Series, rng: Rng, options: { minLength: number; maxLength: number }): Injection;
  /** A copy of `segment` (z-normalized) with the injection applied. */
  apply(segment: Series, injection: Injection): Series;
  /** draw + apply. */
  inject(
    segment: Series,
    rng: Rng,
    options: { minLength: number; maxLength: number },
  ): { series: Series; injection: Injection };
}

export function createTrainingInjector(
  zStats: ModalityStats,
  rawStats?: ModalityStats,
  kinds: readonly InjectionKind[] = INJECTION_KINDS,
): TrainingInjector {
  const stats = rawStats ?? zStats;
  const injector: TrainingInjector = {
    draw(segment, rng, { minLength, maxLength }) {
      const length = minLength + rng.int(maxLength - minLength + 1);
      const kind = rng.pick(kinds);
      const modality = rng.int(segment.modalities.length);
      const injection: Injection = {
        kind,
        node: rng.int(segment.nodes.length),
        modality,
        start: 1 + rng.int(segment.steps - 1),
        length,
      };
      const range = modalityRange(stats, modality);
      switch (kind) {
        case 'scale':
          injection.magnitude = rng.pick([0.5, 0.7, 1.3, 1.5, 2]);
          if (rawStats && rng.next() < 0.5) injection.pivot = 'zero';
          break;
        case 'mirror':
          if (rawStats && rng.next() < 0.5) injection.pivot = 'zero';
          break;
        case 'surge':
          injection.magnitude = (rng.next() < 0.5 ? -1 : 1) * range * (0.2 + 0.8 * rng.next());
          break;
        case 'decay':
        case 'increase':
        case 'drift':
          // The paper trains with range / 25 and tests with range / 40 per sample; cover both and gentler.
          injection.magnitude = range / (20 + 40 * rng.next());
          break;
        case 'noise': {
          const position = stats.nodes.indexOf(segment.nodes[injection.node]);
          const std = position >= 0 ? stats.std[position * stats.modalities.length + modality] : 1;
          injection.magnitude = std * (1 + 2 * rng.next());
          break;
        }
        default:
          break;
      }
      return injection;
    },
    apply(segment, injection) {
      if (!rawStats) return injectAnomaly(segment, injection, zStats);
      return normalizeSeries(injectAnomaly(denormalizeSeries(segment, rawStats), injection, rawStats), rawStats);
    },
    inject(segment, rng, options) {
      const injection = injector.draw(segment, rng, options);
      return { series: injector.apply(segment, injection), injection };
    },
  };
  return injector;
}
