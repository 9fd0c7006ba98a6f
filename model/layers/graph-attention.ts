import * as tf from '@tensorflow/tfjs';
import { activate, type Activation } from './dense.ts';
import type { ParamStore } from './init.ts';

/** Added to the attention logits of non-edges: softmax gives them weight 0. */
export const MASKED_LOGIT = -1e9;

/**
 * Graph attention (GAT, Veličković et al.) over a dense masked adjacency, one
 * set of weights per group (modality), all groups and batch elements in a
 * few batched matmuls. Attention runs only along edges and self-loops:
 * the additive mask bias is 0 there and MASKED_LOGIT elsewhere.
 *
 * Shapes: h [G, B, N, in], maskBias [B, N, N] → [G, B, N, heads·headSize]
 * (concat) or [G, B, N, headSize] (heads averaged).
 */
export class GraphAttention {
  readonly kernel: tf.Variable;
  readonly attendSource: tf.Variable;
  readonly attendTarget: tf.Variable;
  readonly bias: tf.Variable;
  readonly outputs: number;

  constructor(
    params: ParamStore,
    readonly name: string,
    readonly groups: number,
    readonly inputs: number,
    readonly heads: number,
    readonly headSize: number,
    readonly concat: boolean,
    readonly activation: Activation,
  ) {
    this.kernel = params.glorot(`${name}/kernel`, [groups, inputs, heads * headSize], inputs, heads * headSize);
    this.attendSource = params.glorot(`${name}/attend_source`, [groups, 1, 1, heads, headSize], headSize, 1);
    this.attendTarget = params.glorot(`${name}/attend_target`, [groups, 1, 1, heads, headSize], headSize, 1);
    this.outputs = concat ? heads * headSize : headSize;
    this.bias = params.constant(`${name}/bias`, [groups, 1, 1, this.outputs], 0);
  }

  apply(h: tf.Tensor, maskBias: tf.Tensor): tf.Tensor {
    const [g, b, n, f] = h.shape;
    if (h.rank !== 4 || g !== this.groups || f !== this.inputs) {
      throw new RangeError(
        `${this.name}: expected input [${this.groups}, B, N, ${this.inputs}], got [${h.shape.join(', ')}]`,
      );
    }
    if (maskBias.rank !== 3 || maskBias.shape[0] !== b || maskBias.shape[1] !== n || maskBias.shape[2] !== n) {
      throw new RangeError(`${this.name}: expected mask [${b}, ${n}, ${n}], got [${maskBias.shape.join(', ')}]`);
    }
    // A scope of its own: the [G, B, H, N, N] attention intermediates are the largest tensors of a model call.
    // Freed when this layer returns rather than when the whole call does, the layers' do not all live at once.
    return tf.tidy(() => this.attend(h, maskBias, g, b, n, f));
  }

  private attend(h: tf.Tensor, maskBias: tf.Tensor, g: number, b: number, n: number, f: number): tf.Tensor {
    const { heads, headSize } = this;
    const rows = tf.reshape(h, [g, b * n, f]);
    const projected = tf.reshape(tf.matMul(rows, this.kernel as tf.Tensor3D), [g, b, n, heads, headSize]);
    // Per node and head: its score as a message target and as a source, a · (h W) = h · (W a). Folded into the
    // kernel, the scores are one small product of the inputs instead of two passes over every node's projection.
    const scores = tf.transpose(
      tf.reshape(tf.matMul(rows, this.scoreKernel(g, f)), [g, b, n, 2 * heads]),
      [0, 1, 3, 2],
    );
    const targetScore = tf.slice(scores, [0, 0, 0, 0], [g, b, heads, n]); // [G, B, H, N]
    const sourceScore = tf.slice(scores, [0, 0, heads, 0], [g, b, heads, n]);
    // logits[i, j]: how much target i attends to source j. Each [G, B, H, N, N] step is disposed once the next one
    // exists, so no more than two are held at a time (a gradient tape keeps its own copies of what it needs).
    const summed = tf.add(tf.expandDims(targetScore, -1), tf.expandDims(sourceScore, -2));
    const logits = tf.leakyRelu(summed, 0.2);
    summed.dispose();
    const masked = tf.add(logits, tf.reshape(maskBias, [1, b, 1, n, n]));
    logits.dispose();
    const attention = tf.softmax(masked, -1); // [G, B, H, N, N]
    masked.dispose();
    const messages = tf.transpose(projected, [0, 1, 3, 2, 4]); // [G, B, H, N, D]
    const aggregated = tf.matMul(
      tf.reshape(attention, [g * b * heads, n, n]),
      tf.reshape(messages, [g * b * heads, n, headSize]),
    );
    attention.dispose();
    const perNode = tf.transpose(tf.reshape(aggregated, [g, b, heads, n, headSize]), [0, 1, 3, 2, 4]); // [G, B, N, H, D]
    const combined = this.concat ? tf.reshape(perNode, [g, b, n, heads * headSize]) : tf.mean(perNode, 3);
    return activate(tf.add(combined, this.bias), this.activation);
  }

  /** [G, F, 2H]: per input feature, its weight in each head's target score, then in each head's source score. */
  private scoreKernel(g: number, f: number): tf.Tensor3D {
    const { heads, headSize } = this;
    const perHead = tf.reshape(this.kernel, [g, f, heads, headSize]);
    const fold = (attend: tf.Variable): tf.Tensor =>
      tf.sum(tf.mul(perHead, tf.reshape(attend, [g, 1, heads, headSize])), -1);
    return tf.concat([fold(this.attendTarget), fold(this.attendSource)], 2) as tf.Tensor3D;
  }
}

/** The additive attention bias [B, N, N] for 0/1 masks (row-major N×N each). */
export function maskBiasTensor(masks: Float32Array[], n: number): tf.Tensor3D {
  const values = new Float32Array(masks.length * n * n);
  masks.forEach((mask, k) => {
    for (let i = 0; i < n * n; i++) values[k * n * n + i] = mask[i] > 0 ? 0 : MASKED_LOGIT;
  });
  return tf.tensor3d(values, [masks.length, n, n]);
}
