import { createRng } from '../common/random.ts';
import type { SensorNode } from './types.ts';

/**
 * A synthetic deployment for benchmarks and tests: n temperature nodes placed
 * uniformly in a square, ids "0".."n-1", the same for the same seed. The
 * default side keeps the density constant (about one node per 100 square
 * units, like a large deployment); `withZ` adds a height up to a tenth of it.
 */
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
