import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from './init.ts';

export type Activation = 'linear' | 'relu' | 'elu' | 'tanh';

export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'elu':
      return tf.elu(x);
    case 'tanh':
      return tf.tanh(x);
    default:
      return x;
  }
}

/**
 * A fully connected layer, optionally with one weight matrix per group
 * (per modality), applied to all groups in one batched matmul.
 *
 * Shapes: ungrouped x [R, in] → [R, out]; grouped x [G, R, in] → [G, R, out]
 * with kernel [G, in, out] and bias [G, 1, out].
 */
export class Dense {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    params: ParamStore,
    readonly name: string,
    readonly inputs: number,
    readonly outputs: number,
    readonly activation: Activation = 'linear',
    readonly groups = 0,
  ) {
    const shape = groups > 0 ? [groups, inputs, outputs] : [inputs, outputs];
    this.kernel = params.glorot(`${name}/kernel`, shape, inputs, outputs);
    this.bias = params.constant(`${name}/bias`, groups > 0 ? [groups, 1, outputs] : [outputs], 0);
  }

  apply(x: tf.Tensor): tf.Tensor {
    const expectedRank = this.groups > 0 ? 3 : 2;
    if (x.rank !== expectedRank || x.shape[x.rank - 1] !== this.inputs) {
      throw new RangeError(
        `${this.name}: expected input [${this.groups > 0 ? `${this.groups}, ` : ''}R, ${this.inputs}], got [${x.shape.join(', ')}]`,
      );
    }
    return activate(tf.add(tf.matMul(x as tf.Tensor3D, this.kernel as tf.Tensor3D), this.bias), this.activation);
  }
}

/** Dense layers applied one after another. */
export class Mlp {
  readonly layers: Dense[];

  constructor(
    params: ParamStore,
    name: string,
    sizes: number[],
    hiddenActivation: Activation,
    outputActivation: Activation = 'linear',
    groups = 0,
  ) {
    this.layers = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const last = i + 2 === sizes.length;
      this.layers.push(
        new Dense(params, `${name}/${i}`, sizes[i], sizes[i + 1], last ? outputActivation : hiddenActivation, groups),
      );
    }
  }

  apply(x: tf.Tensor): tf.Tensor {
    return this.layers.reduce<tf.Tensor>((h, layer) => layer.apply(h), x);
  }
}
