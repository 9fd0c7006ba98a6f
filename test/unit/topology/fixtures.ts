import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../../../common/random.ts';
import type { SensorNode } from '../../../topology/index.ts';

export const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
export const ibrlNodeFile = resolve(repoRoot, '../shared/data/ibrl/node.txt');

/** n nodes uniformly in a square, ids "0".."n-1", deterministic for the seed. */
export function randomNodes(n: number, seed = 3, side = Math.sqrt(n) * 10, withZ = false): SensorNode[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const node: SensorNode = {
      id: String(i),
      x: rng.next() * side,
      y: rng.next() * side,
      modalities: ['temperature'],
      status: 'active',
    };
    if (withZ) node.z = rng.next() * side * 0.1;
    return node;
  });
}

export function shuffled<T>(items: readonly T[], seed = 11): T[] {
  const rng = createRng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
