import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from './init.ts';

/**
 * Adaptive weighted intermodal fusion: each modality's features are
 * multiplied by its own learned F×F matrix and the results summed over
 * modalities. Initialised to identity / M plus small noise, i.e. starting
 * as the mean over modalities.
 *
 * Shapes: x [M, R, F] → [R, F].
 */
export class ModalityFusion {
  readonly weights: tf.Variable;

  constructor(
    params: ParamStore,
    readonly name: string,
    readonly modalities: number,
    readonly features: number,
  ) {
    this.weights = params.custom(`${name}/weights`, [modalities, features, features], (rng) => {
      const values = new Float32Array(modalities * features * features);
      for (let m = 0; m < modalities; m++) {
        for (let i = 0; i < features; i++) {
          for (let j = 0; j < features; j++) {
            values[(m * features + i) * features + j] = (i === j ? 1 / modalities : 0) + (rng.next() - 0.5) * 0.02;
          }
        }
      }
      return values;
    });
  }

  apply(x: tf.Tensor3D): tf.Tensor2D {
    if (x.shape[0] !== this.modalities || x.shape[2] !== this.features) {
      throw new RangeError(
        `${this.name}: expected input [${this.modalities}, R, ${this.features}], got [${x.shape.join(', ')}]`,
      );
    }
    return tf.sum(tf.matMul(x, this.weights as tf.Tensor3D), 0) as tf.Tensor2D;
  }
}
