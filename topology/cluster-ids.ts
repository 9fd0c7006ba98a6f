/**
 * Cluster ids are names, not indices: `c-<anchor>`, where the anchor is the
 * member that comes first in canonical id order when the cluster is created.
 * The id is then kept while members join and leave (even the anchor), so it
 * stays the same as long as the cluster exists; unrelated changes elsewhere
 * in the network never rename it. A clash with a live id gets a suffix.
 */
import { sortNodeIds } from './node-order.ts';

export function newClusterId(
  members: Iterable<string>,
  taken: ReadonlySet<string> | ReadonlyMap<string, unknown>,
): string {
  const anchor = sortNodeIds(members)[0];
  const base = `c-${anchor}`;
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}~${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}
