/**
 * `wsn-watch detect` following wsn.topology writes the node_position
 * measurement Grafana's network map reads: one point per node with x and y.
 * Real Kafka and InfluxDB (`wsn-watch services up`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createTopology, parseTopologyText } from '../../../topology/index.ts';
import { TopologyPublisher } from '../../../topology/kafka.ts';
import {
  config,
  deleteTestTopics,
  influx,
  startDetector,
  tinyModel,
  uniqueId,
  type DetectorProcess,
} from './harness.ts';
import { waitFor } from '../../support/wait.ts';

const id = uniqueId();
const network = `it-positions-${id}`;
const database = `wsn_it_positions_${id}`;
const nodes = '1 0 0\n2 6 0\n3 0 6\n4 6 6\n5 12 3\n6 12 9\n';

describe('detector writes node positions', () => {
  let detector: DetectorProcess | undefined;
  const publisher = new TopologyPublisher({ brokers: config.kafka.brokers, network });
  const sink = influx(database);

  afterAll(async () => {
    detector?.child.kill('SIGTERM');
    await detector?.exited;
    await publisher.retract().catch(() => undefined);
    await publisher.disconnect();
    await sink.dropDatabase().catch(() => undefined);
    await deleteTestTopics([id]);
  });

  it('after starting with a published topology, node_position has one row per node with its x, y and cluster', async () => {
    const topology = createTopology(parseTopologyText(nodes, 'nodes.txt'), {
      edgeRule: { knn: 2 },
      cluster: { maxSize: 3, seed: 1 },
    });
    await publisher.connect();
    await publisher.publish(topology);
    detector = await startDetector({
      id,
      group: `it-positions-${id}`,
      replicaId: 'p1',
      database,
      model: tinyModel(),
      alertmanager: false,
      topology: true,
      env: { WSN_NETWORK: network },
    });
    type Row = { node: string; cluster: string; network: string; x: number; y: number };
    let rows: Row[] = [];
    await waitFor(
      'node_position rows',
      async () => {
        rows = await sink.query<Row>('SELECT * FROM "node_position"').catch(() => []);
        return rows.length >= 6;
      },
      60_000,
    );
    expect(rows).toHaveLength(6);
    const byNode = new Map(rows.map((row) => [row.node, row]));
    expect([...byNode.keys()].sort()).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(byNode.get('5')).toMatchObject({ network, x: 12, y: 3, cluster: topology.clustering.nodeCluster.get('5') });
    expect(byNode.get('4')).toMatchObject({ x: 6, y: 6 });
  }, 240_000);
});
