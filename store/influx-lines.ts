/**
 * InfluxDB line protocol for what the detector writes on every batch, built
 * without the `influx` client's per-point work: its serializer sorts each
 * point's field names and runs an escaping regular expression over every
 * name and tag, which at one point per node-tick cost more CPU than the
 * rest of the sink (docs/benchmarks.md). The text is the one the client would
 * send for the same points (tested against the client's own serializer), and
 * it goes out over the client's own connection pool, so hosts, credentials,
 * timeouts and errors stay the client's.
 */
import { escape, type InfluxDB, type IPoint } from 'influx';
import { MEASUREMENTS, type ClusterScore, type Frame } from '../common/types.ts';

/** A point with a name and a time in ms, as the sink's own points all are. */
export type TimedPoint = IPoint & { measurement: string; timestamp: number };

/** What `escape.tag` changes: its three characters, and a backslash before a quote (the client doubles it). */
const CHANGED_BY_ESCAPE = /[,= ]|\\'/;

/** A tag key or value, or a field name, as the client escapes it (most are left as they are). */
export function tagText(value: string): string {
  return CHANGED_BY_ESCAPE.test(value) ? escape.tag(value) : value;
}

/** A field value as the client writes it: numbers and booleans as text, strings quoted. */
function fieldValue(value: unknown): string {
  return typeof value === 'string' ? escape.quoted(value) : String(value);
}

/**
 * One point as a line: tags in the order given, fields sorted by name (as the
 * client sorts them), the time as it is (ms when written with precision ms).
 */
export function pointLine(point: TimedPoint): string {
  let line = point.measurement;
  for (const [key, value] of Object.entries(point.tags ?? {})) line += `,${tagText(key)}=${tagText(value)}`;
  const names = Object.keys(point.fields ?? {}).sort();
  names.forEach((name, i) => (line += `${i === 0 ? ' ' : ','}${tagText(name)}=${fieldValue(point.fields![name])}`));
  return `${line} ${point.timestamp}`;
}

/** The prefix of the readings' fields in the `anomaly` measurement (so a modality cannot collide with a verdict field). */
export const VALUE_PREFIX = 'value_';
/** The reading of a modality in the `anomaly` measurement. */
export const valueField = (modality: string): string => `${VALUE_PREFIX}${modality}`;
/** The reconstruction-error field of a modality in the `anomaly` measurement. */
export const errorField = (modality: string): string => `err_${modality}`;
/** The (denormalized) reconstruction field of a modality in the `anomaly` measurement. */
export const reconstructionField = (modality: string): string => `rec_${modality}`;
/** The cluster's own probability, repeated on each of its nodes' points instead of a point of its own. */
export const CLUSTER_PROBABILITY_FIELD = 'cluster_probability';

/** Field names of one modality, escaped once per sink (a network has a handful of modalities). */
interface ModalityFields {
  value: string;
  error: string;
  reconstruction: string;
}

type NodeScore = ClusterScore['nodes'][number];

/**
 * The `anomaly` measurement, as lines: at most one point per node and tick,
 * tags network/cluster/node, time = tick (event time, so writing the same
 * batch again overwrites instead of adding). The point carries the node's
 * readings (`value_<modality>`) and, when its cluster was scored at that tick,
 * the verdict (probability, score, is_anomaly, silenced where the detector
 * follows silences, err_* and rec_* per modality), the cluster's probability
 * and a `model` tag (the version that scored the tick). A tick of the warm-up
 * has readings only; a node with neither a reading nor a score writes nothing.
 * One point per node-tick keeps the write volume at the node-tick rate (1M
 * nodes at 31 s ticks: 32k points/s rather than the 65k of separate reading
 * and score points).
 *
 * Fields come in the order the `influx` client writes them, without sorting
 * per point: the fixed names and the three per-modality prefixes sort the same
 * way whatever the modality, so only each node's modalities are sorted. A unit
 * test holds this to the client's text for the same points
 * (test/support/anomaly-points.ts spells them as the client's points).
 */
export class NodeTickLines {
  private readonly modalities = new Map<string, ModalityFields>();
  private readonly valueOrder = new SortedNames();
  private readonly errorOrder = new SortedNames();
  private readonly reconstructionOrder = new SortedNames();

  /** Appends a frame's lines to `lines`: one per node with a reading or a verdict. */
  append(frame: Frame, score: ClusterScore | undefined, lines: string[]): void {
    const verdicts = new Map<string, NodeScore>();
    for (const node of score?.nodes ?? []) verdicts.set(node.node, node);
    const series = `${MEASUREMENTS.anomaly},network=${tagText(frame.network)},cluster=${tagText(frame.cluster)},node=`;
    const model = score?.model ? `,model=${tagText(score.model)}` : '';
    const time = ` ${frame.tick}`;
    for (const node of frame.nodes) {
      const verdict = verdicts.get(node.node);
      let fields = verdict ? this.verdictFields(verdict, score!.probability) : '';
      for (const modality of this.valueOrder.of(node.values)) {
        const value = node.values[modality];
        if (value !== null && Number.isFinite(value))
          fields += `${fields === '' ? '' : ','}${this.fieldsOf(modality).value}=${value}`;
      }
      if (fields === '') continue;
      lines.push(`${series}${tagText(node.node)}${verdict ? model : ''} ${fields}${time}`);
    }
  }

  /** cluster_probability, err_*, is_anomaly, probability, rec_*, score, silenced: sorted by name. */
  private verdictFields(node: NodeScore, clusterProbability: number): string {
    let text = `${CLUSTER_PROBABILITY_FIELD}=${clusterProbability}`;
    for (const modality of this.errorOrder.of(node.reconstructionError)) {
      const error = node.reconstructionError[modality];
      if (Number.isFinite(error)) text += `,${this.fieldsOf(modality).error}=${error}`;
    }
    text += `,is_anomaly=${node.isAnomaly},probability=${node.probability}`;
    const reconstruction = node.reconstruction ?? {};
    for (const modality of this.reconstructionOrder.of(reconstruction)) {
      const value = reconstruction[modality];
      if (Number.isFinite(value)) text += `,${this.fieldsOf(modality).reconstruction}=${value}`;
    }
    text += `,score=${node.score}`;
    if (node.silenced !== undefined) text += `,silenced=${node.silenced}`;
    return text;
  }

  private fieldsOf(modality: string): ModalityFields {
    let fields = this.modalities.get(modality);
    if (!fields) {
      fields = {
        value: tagText(valueField(modality)),
        error: tagText(errorField(modality)),
        reconstruction: tagText(reconstructionField(modality)),
      };
      this.modalities.set(modality, fields);
    }
    return fields;
  }
}

/**
 * A record's names sorted, remembered for the last order of names seen: the
 * records of one kind name the same modalities in the same order node after
 * node, and sorting a copy per record was most of what this file allocated.
 */
class SortedNames {
  private names: string[] = [];
  private sorted: string[] = [];

  of(record: object): readonly string[] {
    let i = 0;
    for (const name in record) {
      if (name !== this.names[i]) return this.remember(record);
      i++;
    }
    return i === this.names.length ? this.sorted : this.remember(record);
  }

  private remember(record: object): readonly string[] {
    this.names = Object.keys(record);
    this.sorted = [...this.names].sort();
    return this.sorted;
  }
}

/** The parts of the client that `writePoints` sends through; the client has no public call for a ready body. */
interface ClientInternals {
  _pool: { discard(request: object): Promise<void> };
  _options: { username?: unknown; password?: string };
}

/**
 * Posts lines (joined by newlines) to /write with precision ms, as the
 * client's `writePoints` would post the points they stand for: same pool,
 * same query, same credentials. Errors are the client's (a 4xx carries its
 * `res`), so the sink tells refusals from failures the same way.
 */
export function postLines(client: InfluxDB, database: string, body: string): Promise<void> {
  const { _pool: pool, _options: options } = client as unknown as ClientInternals;
  return pool.discard({
    body,
    method: 'POST',
    path: '/write',
    query: { db: database, precision: 'ms', rp: undefined },
    auth: typeof options.username === 'string' ? `${options.username}:${options.password || ''}` : undefined,
  });
}
