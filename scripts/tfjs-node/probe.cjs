// Loads @tensorflow/tfjs-node from the repository in a fresh process and
// reports whether its native binding works. Exit 0 and one JSON line
// {backend, tfjsNode, libtensorflow, binding} on stdout when it does; exit 1 and
// the loader's error on stderr when it does not. CommonJS on purpose: the
// binding is located with require() relative to this repository.
'use strict';
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '..', '..');
try {
  const pkgJson = require.resolve('@tensorflow/tfjs-node/package.json', { paths: [repoRoot] });
  const binding = require('@mapbox/node-pre-gyp').find(pkgJson);
  // tfjs-node prints a banner about CPU instructions through TensorFlow's own
  // logger; keep it quiet here, callers only want the verdict.
  process.env.TF_CPP_MIN_LOG_LEVEL = process.env.TF_CPP_MIN_LOG_LEVEL || '2';
  const tf = require(require.resolve('@tensorflow/tfjs-node', { paths: [repoRoot] }));
  const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
  if (sum[0] !== 4 || sum[1] !== 6) throw new Error(`native add returned ${Array.from(sum)}`);
  console.log(
    JSON.stringify({
      backend: tf.getBackend(),
      tfjsNode: tf.version['tfjs-node'],
      libtensorflow: tf.backend().binding.TF_Version,
      binding: path.relative(repoRoot, binding),
    }),
  );
} catch (error) {
  console.error(String(error && error.message ? error.message : error).split('\n')[0]);
  process.exit(1);
}
