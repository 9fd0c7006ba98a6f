import type { Series } from '../../sources/series.ts';
import type { SeriesScorer, SeriesScores } from '../scoring.ts';
import { BASELINE_THRESHOLD, type CalibratedBaseline, toSeriesScores } from './node-scores.ts';

export interface RollingZScoreOptions {
  /** Trailing samples the mean and std come from (default 20, the paper's window). */
  history?: number;
  /** Smallest std, in the series' units (z-scores for a normalized series). Default 0.05. */
  stdFloor?: number;
  /** Raw score threshold (default 4: four trailing standard deviations). */
  rawThreshold?: number;
}

/**
 * Per node and modality: how many trailing standard deviations the newest
 * sample is from the trailing mean; a node scores its worst modality. No
 * neighbours, no learning: the floor any model must clear.
 */
export class RollingZScoreScorer implements SeriesScorer, CalibratedBaseline {
  readonly name = 'rolling-zscore';
  readonly threshold = BASELINE_THRESHOLD;
  readonly history: number;
  readonly stdFloor: number;
  rawThreshold: number;

  constructor(options: RollingZScoreOptions = {}) {
    this.history = options.history ?? 20;
    this.stdFloor = options.stdFloor ?? 0.05;
    this.rawThreshold = options.rawThreshold ?? 4;
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

  async scoreSeries(series: Series, from: number, to: number): Promise<SeriesScores> {
    return toSeriesScores(this.rawScores(series, from, to), from, to, series.nodes.length, series.modalities.length, this.rawThreshold);
  }
}
