import { CLUSTER_PROBABILITY_FIELD } from '../../store/influx-lines.ts';

/** Anything that runs InfluxQL on the test's database (an InfluxSink, a Pipeline fixture). */
export interface InfluxQuerier {
  query<T>(influxql: string): Promise<T[]>;
}

/** One scored (cluster, tick) as InfluxDB holds it. */
export interface ScoredClusterTick {
  cluster: string;
  tick: number;
  /** The cluster's probability (every node point of the tick repeats it). */
  probability: number;
  /** Node points written with a verdict at that tick. */
  nodePoints: number;
}

/**
 * The scored (cluster, tick)s in the `anomaly` measurement, keyed
 * `cluster@tick`: the node points that carry a verdict, grouped. Warm-up
 * points (readings only) are not counted.
 */
export async function scoredClusterTicks(influx: InfluxQuerier): Promise<Map<string, ScoredClusterTick>> {
  const rows = await influx
    .query<{ time: Date; cluster: string; probability: number }>(
      `SELECT "${CLUSTER_PROBABILITY_FIELD}" AS "probability", "cluster" FROM "anomaly" WHERE "${CLUSTER_PROBABILITY_FIELD}" >= 0`,
    )
    .catch(() => []);
  const ticks = new Map<string, ScoredClusterTick>();
  for (const row of rows) {
    const tick = row.time.getTime();
    const key = `${row.cluster}@${tick}`;
    const entry = ticks.get(key) ?? { cluster: row.cluster, tick, probability: row.probability, nodePoints: 0 };
    entry.nodePoints += 1;
    ticks.set(key, entry);
  }
  return ticks;
}
