/**
 * One model call (DetectorNetwork.step, one tick of B clusters of 64 nodes,
 * each node linked to its 6 nearest on a ring) with the default model: wall
 * and CPU per call and CPU per node-tick, then TensorFlow's kernels of one
 * call by time (tf.profile), largest first. CPU counts every thread of the
 * process, so native TensorFlow's thread pool is in it.
 *
 *   node --import tsx bench/model-call.ts [--clusters 32] [--calls 10] [--model models/default]
 *
 * TF_NUM_INTRAOP_THREADS in the environment sets native TensorFlow's threads
 * per operation, as `detector.modelThreads` does in the detector service.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { contextFeatures } from '../model/context.ts';
import { loadDetector } from '../model/index.ts';
import { MASKED_LOGIT } from '../model/layers/graph-attention.ts';

const { values: args } = parseArgs({
  options: {
    clusters: { type: 'string', default: '32' },
    calls: { type: 'string', default: '10' },
    model: { type: 'string', default: 'models/default' },
  },
});
const clusters = Number(args.clusters);
const calls = Number(args.calls);
const NODES = 64;
const network = (await loadDetector(args.model)).network;
const { config } = network;
const modalities = config.modalities.length;

const bias = new Float32Array(clusters * NODES * NODES).fill(MASKED_LOGIT);
for (let b = 0; b < clusters; b++)
  for (let i = 0; i < NODES; i++)
    for (let d = -3; d <= 3; d++) bias[b * NODES * NODES + i * NODES + ((i + d + NODES) % NODES)] = 0;
const inputs = {
  windows: tf.randomNormal([clusters, NODES, modalities, config.window], 0, 1, 'float32', 1) as tf.Tensor4D,
  maskBias: tf.tensor3d(bias, [clusters, NODES, NODES]),
  nodeMask: tf.ones([clusters, NODES]) as tf.Tensor2D,
  hidden: Array.from({ length: config.gruLayers }, () => tf.zeros([clusters * NODES, config.gruUnits]) as tf.Tensor2D),
  context: tf.randomNormal(
    [clusters * NODES, modalities * contextFeatures(config.context)],
    0,
    1,
    'float32',
    2,
  ) as tf.Tensor2D,
};
const call = (): void => tf.tidy(() => void network.step(inputs).nodeLogits.dataSync());
for (let i = 0; i < 3; i++) call();
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
for (let i = 0; i < calls; i++) call();
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000 / calls;
const wallMs = (performance.now() - wallBefore) / calls;
console.log(
  `| clusters per call | TF_NUM_INTRAOP_THREADS | wall ms / call | CPU ms / call | CPU µs / node-tick |\n| ---: | --- | ---: | ---: | ---: |\n` +
    `| ${clusters} | ${process.env.TF_NUM_INTRAOP_THREADS ?? '(unset)'} | ${wallMs.toFixed(1)} | ${cpuMs.toFixed(1)} | ${((cpuMs * 1000) / (clusters * NODES)).toFixed(1)} |\n`,
);
const profile = await tf.profile(() => tf.tidy(() => void network.step(inputs)));
const byKernel = new Map<string, number>();
for (const kernel of profile.kernels) {
  const key = `${kernel.name} [${(kernel.outputShapes?.[0] ?? []).join(', ')}]`;
  byKernel.set(key, (byKernel.get(key) ?? 0) + Number(kernel.kernelTimeMs));
}
const total = [...byKernel.values()].reduce((sum, ms) => sum + ms, 0);
console.log(`| kernel [output shape] | ms in one call | share |\n| --- | ---: | ---: |`);
for (const [kernel, ms] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 12))
  console.log(`| ${kernel} | ${ms.toFixed(2)} | ${((100 * ms) / total).toFixed(1)} % |`);
console.log(`| all ${profile.kernels.length} kernels | ${total.toFixed(1)} | 100 % |`);
