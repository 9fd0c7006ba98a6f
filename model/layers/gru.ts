import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from './init.ts';

/**
 * One GRU layer (the PyTorch formulation: reset gate applied to the
 * recurrent projection). Rows are independent sequences — here one per node
 * of every cluster in the batch — so the weights are shared by all nodes.
 *
 * Shapes: x [R, inputs], h [R, units] → h' [R, units].
 */
export class GruCell {
  readonly inputKernel: tf.Variable;
  readonly recurrentKernel: tf.Variable;
  readonly inputBias: tf.Variable;
  readonly recurrentBias: tf.Variable;

  constructor(
    params: ParamStore,
    readonly name: string,
    readonly inputs: number,
    readonly units: number,
  ) {
    this.inputKernel = params.glorot(`${name}/input_kernel`, [inputs, 3 * units], inputs, 3 * units);
    this.recurrentKernel = params.glorot(`${name}/recurrent_kernel`, [units, 3 * units], units, 3 * units);
    this.inputBias = params.constant(`${name}/input_bias`, [3 * units], 0);
    this.recurrentBias = params.constant(`${name}/recurrent_bias`, [3 * units], 0);
  }

  apply(x: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    if (x.shape[1] !== this.inputs || h.shape[1] !== this.units || x.shape[0] !== h.shape[0]) {
      throw new RangeError(
        `${this.name}: expected x [R, ${this.inputs}] and h [R, ${this.units}], got [${x.shape.join(', ')}] and [${h.shape.join(', ')}]`,
      );
    }
    const [xr, xz, xn] = tf.split(tf.add(tf.matMul(x, this.inputKernel as tf.Tensor2D), this.inputBias), 3, 1);
    const [hr, hz, hn] = tf.split(tf.add(tf.matMul(h, this.recurrentKernel as tf.Tensor2D), this.recurrentBias), 3, 1);
    const reset = tf.sigmoid(tf.add(xr, hr));
    const update = tf.sigmoid(tf.add(xz, hz));
    const candidate = tf.tanh(tf.add(xn, tf.mul(reset, hn)));
    // h' = (1 - z) · n + z · h
    return tf.add(candidate, tf.mul(update, tf.sub(h, candidate))) as tf.Tensor2D;
  }
}

/** Stacked GRU layers; hidden is one [R, units] tensor per layer. */
export class StackedGru {
  readonly cells: GruCell[];

  constructor(
    params: ParamStore,
    name: string,
    inputs: number,
    readonly units: number,
    layers: number,
  ) {
    this.cells = Array.from(
      { length: layers },
      (_, i) => new GruCell(params, `${name}/${i}`, i === 0 ? inputs : units, units),
    );
  }

  apply(x: tf.Tensor2D, hidden: tf.Tensor2D[]): { output: tf.Tensor2D; hidden: tf.Tensor2D[] } {
    if (hidden.length !== this.cells.length)
      throw new RangeError(`GRU: expected ${this.cells.length} hidden tensors, got ${hidden.length}`);
    const next: tf.Tensor2D[] = [];
    let input = x;
    this.cells.forEach((cell, i) => {
      input = cell.apply(input, hidden[i]);
      next.push(input);
    });
    return { output: input, hidden: next };
  }
}
