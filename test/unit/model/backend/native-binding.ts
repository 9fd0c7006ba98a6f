import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const require = createRequire(import.meta.url);

/**
 * Whether this checkout has tfjs-node's native binding on disk (built by
 * scripts/install-tfjs-node.sh). Tests then require the `tensorflow` backend to
 * work; without it they require the clear BACKEND_UNAVAILABLE error instead.
 */
export function nativeBindingBuilt(): boolean {
  const preGyp = require('@mapbox/node-pre-gyp') as { find(packageJson: string): string };
  return existsSync(preGyp.find(require.resolve('@tensorflow/tfjs-node/package.json')));
}
