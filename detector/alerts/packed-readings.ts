/**
 * What the packed checkpoint forms of the per-reading statistics share
 * (packed-jumps.ts, packed-stuck.ts): readings counted per node, nodes and
 * modalities in code-unit order so that the same statistics pack to the same
 * bytes whatever order their nodes came in.
 */

/** Whether a float is a whole count, 0 or more. */
export function isCount(value: number): boolean {
  return Number.isInteger(value) && value >= 0;
}

/** The packed form's readings in all (its per-node counts summed), or what is wrong with them. */
export function totalReadings(nodes: readonly string[], readings: Float64Array): number | string {
  if (readings.length !== nodes.length) return `readings has ${readings.length} counts for ${nodes.length} nodes`;
  let total = 0;
  for (const [i, count] of readings.entries()) {
    if (!isCount(count)) return `readings of node ${nodes[i]} is ${count}, not a count`;
    total += count;
  }
  return total;
}

/** Modalities in code-unit order, and each of `names`' place among them. */
export function canonicalModalities(names: readonly string[]): { modalities: string[]; rank: number[] } {
  const modalities = [...names].sort();
  return { modalities, rank: names.map((name) => modalities.indexOf(name)) };
}
