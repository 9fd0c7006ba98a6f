import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../common/random.ts';

/**
 * The trainable parameters of one network, by name. Values come from the
 * seeded common/random.ts generator, not from the backend's, so the same seed
 * gives the same weights on every backend. Variables are registered without
 * a global tf name so several models can live in one process.
 */
export class ParamStore {
  readonly entries = new Map<string, tf.Variable>();

  constructor(private readonly rng: Rng) {}

  /** Glorot-uniform initialised variable. */
  glorot(name: string, shape: number[], fanIn: number, fanOut: number): tf.Variable {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = (this.rng.next() * 2 - 1) * limit;
    return this.values(name, values, shape);
  }

  constant(name: string, shape: number[], value: number): tf.Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    return this.values(name, new Float32Array(size).fill(value), shape);
  }

  /** Variable from explicit values; `init` may use the store's generator for noise. */
  custom(name: string, shape: number[], init: (rng: Rng) => Float32Array): tf.Variable {
    return this.values(name, init(this.rng), shape);
  }

  values(name: string, values: Float32Array, shape: number[]): tf.Variable {
    if (this.entries.has(name)) throw new Error(`parameter ${name} declared twice`);
    const initial = tf.tensor(values, shape);
    const variable = tf.variable(initial, true);
    // The variable holds its own reference to the data.
    initial.dispose();
    this.entries.set(name, variable);
    return variable;
  }

  get variables(): tf.Variable[] {
    return [...this.entries.values()];
  }

  dispose(): void {
    for (const variable of this.entries.values()) variable.dispose();
    this.entries.clear();
  }
}
