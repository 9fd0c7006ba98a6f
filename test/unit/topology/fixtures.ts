import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../../../common/random.ts';
import type { SensorNode } from '../../../topology/index.ts';
// One synthetic deployment for the topology tests and the benchmarks.
export { randomNodes } from '../../../topology/index.ts';

/** An active node at (x, y) reading `modalities`. */
export function sensorNode(id: string, x: number, y: number, modalities = ['temperature']): SensorNode {
  return { id, x, y, modalities, status: 'active' };
}

export const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
export const ibrlNodeFile = resolve(repoRoot, '../shared/data/ibrl/node.txt');

export function shuffled<T>(items: readonly T[], seed = 11): T[] {
  const rng = createRng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
