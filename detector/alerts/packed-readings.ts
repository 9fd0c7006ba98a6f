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
function totalReadings(nodes: readonly string[], readings: Float64Array): number | string {
  if (readings.length !== nodes.length) return `readings has ${readings.length} counts for ${nodes.length} nodes`;
  let total = 0;
  for (const [i, count] of readings.entries()) {
    if (!isCount(count)) return `readings of node ${nodes[i]} is ${count}, not a count`;
    total += count;
  }
  return total;
}

/** The fields of a packed form of per-reading statistics, as far as every such form has them. */
export interface PackedReadings {
  /** The modalities with statistics, in order; `fields` refers to them by index. */
  modalities: string[];
  /** The nodes with statistics, in order. */
  nodes: string[];
  /** Per node, how many readings (modalities) it has; their fields follow each other in node order. */
  readings: Float64Array;
  /** A fixed count of numbers per reading, laid out as the form says. */
  fields: Float64Array;
}

/** Whether a checkpoint's statistics are in a packed form rather than the JSON form (nodes to readings). */
export function isPacked<Packed extends PackedReadings, Json extends object>(state: Json | Packed): state is Packed {
  // A node of the JSON form named "fields" would hold an object, never a Float64Array.
  return (state as Partial<PackedReadings>).fields instanceof Float64Array;
}

/**
 * Checks a packed form's readings and their fields, `perReading` numbers each: `reading` gets the offset of one
 * reading's fields and says what is wrong with them, or how many numbers of the form's values array are the reading's.
 * Returns how many the readings have in all, or what is wrong ("reading r: …" for one reading).
 */
export function countedValues(
  packed: PackedReadings,
  perReading: number,
  reading: (f: number) => string | number,
): number | string {
  const { nodes, readings, fields } = packed;
  const total = totalReadings(nodes, readings);
  if (typeof total === 'string') return total;
  if (fields.length !== total * perReading)
    return `fields has ${fields.length} values, expected ${total * perReading} for ${total} readings`;
  let needed = 0;
  for (let r = 0; r < total; r++) {
    const counted = reading(r * perReading);
    if (typeof counted === 'string') return `reading ${r}: ${counted}`;
    needed += counted;
  }
  return needed;
}

/** Modalities in code-unit order, and each of `names`' place among them. */
export function canonicalModalities(names: readonly string[]): { modalities: string[]; rank: number[] } {
  const modalities = [...names].sort();
  return { modalities, rank: names.map((name) => modalities.indexOf(name)) };
}
