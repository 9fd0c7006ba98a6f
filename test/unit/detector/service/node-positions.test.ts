import type { IPoint } from 'influx';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../common/log.ts';
import { NodePositionPublisher } from '../../../../detector/service/node-positions.ts';
import { createTopology, parseTopologyText } from '../../../../topology/index.ts';

const logger = createLogger('test', 'silent');
const topologyOf = (lines: string) =>
  createTopology(parseTopologyText(lines, 'nodes.txt'), { edgeRule: { knn: 2 }, cluster: { maxSize: 3, seed: 1 } });

describe('NodePositionPublisher', () => {
  it('writes one node_position point per node with its position and cluster, newest layout last', async () => {
    const written: IPoint[][] = [];
    let clock = 1_000;
    const publisher = new NodePositionPublisher({
      writer: { writePoints: async (points) => void written.push(points) },
      network: 'lab',
      logger,
      now: () => clock++,
    });
    const first = topologyOf('1 0 0\n2 5 0\n3 0 5\n4 5 5\n');
    const second = topologyOf('1 0 0\n2 5 0\n3 0 5\n4 9 9\n5 12 1\n');
    void publisher.publish(first, 'v1');
    await publisher.publish(second, 'v2');
    expect(written).toHaveLength(2);
    expect(written[0].map((p) => p.tags?.node).sort()).toEqual(['1', '2', '3', '4']);
    const latest = new Map(written[1].map((p) => [p.tags?.node, p]));
    expect([...latest.keys()].sort()).toEqual(['1', '2', '3', '4', '5']);
    expect(latest.get('4')?.fields).toEqual({ x: 9, y: 9 });
    expect(latest.get('4')?.tags).toMatchObject({ network: 'lab', cluster: second.clustering.nodeCluster.get('4') });
    expect(latest.get('4')?.measurement).toBe('node_position');
    expect(written[0][0].timestamp).toBe(1_000);
    expect(written[1][0].timestamp).toBe(1_001);
  });

  it('keeps going after a failed write: the next version is written', async () => {
    let calls = 0;
    const written: IPoint[][] = [];
    const publisher = new NodePositionPublisher({
      writer: {
        writePoints: async (points) => {
          calls += 1;
          if (calls === 1) throw new Error('connect ECONNREFUSED 127.0.0.1:8086');
          written.push(points);
        },
      },
      network: 'lab',
      logger,
    });
    await expect(publisher.publish(topologyOf('1 0 0\n2 5 0\n'), 'v1')).resolves.toBeUndefined();
    await publisher.publish(topologyOf('1 0 0\n2 5 0\n3 1 1\n'), 'v2');
    expect(calls).toBe(2);
    expect(written[0]).toHaveLength(3);
  });
});
