import type { Series } from '../../sources/series.ts';
import { BaselineScorer, type BaselineOptions } from './node-scores.ts';

export interface RollingZScoreOptions extends BaselineOptions {
  /** Trailing samples the mean and std come from (default 20, the paper's window). */
  history?: number;
}

/**
 * Per node and modality: how many trailing standard deviations the newest
 * sample is from the trailing mean; a node scores its worst modality. No
 * neighbours, no learning: the floor any model must clear.
 */
export class RollingZScoreScorer extends BaselineScorer {
  readonly name = 'rolling-zscore';

  constructor(options: RollingZScoreOptions = {}) {
    super(options);
  }

  /** Raw scores (rows × N) of the steps [from, to). */
  rawScores(series: Series, from: number, to: number): Float32Array {
    const N = series.nodes.length;
    const M = series.modalities.length;
    const L = this.history;
    const out = new Float32Array((to - from) * N);
    const { data } = series;
    for (let n = 0; n < N; n++) {
      for (let m = 0; m < M; m++) {
        // Running sums over the trailing L samples before each step.
        let sum = 0;
        let sumSq = 0;
        let count = 0;
        const start = Math.max(0, from - L);
        for (let t = start; t < from; t++) {
          const v = data[(t * N + n) * M + m];
          sum += v;
          sumSq += v * v;
          count++;
        }
        for (let t = from; t < to; t++) {
          const v = data[(t * N + n) * M + m];
          let score = 0;
          if (count >= 2) {
            const mean = sum / count;
            const std = Math.max(this.stdFloor, Math.sqrt(Math.max(0, sumSq / count - mean * mean)));
            score = Math.abs(v - mean) / std;
          }
          const k = (t - from) * N + n;
          if (score > out[k]) out[k] = score;
          sum += v;
          sumSq += v * v;
          count++;
          if (count > L) {
            const old = data[((t - L) * N + n) * M + m];
            sum -= old;
            sumSq -= old * old;
            count--;
          }
        }
      }
    }
    return out;
  }
}
