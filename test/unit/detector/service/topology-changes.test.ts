import { describe, expect, it } from 'vitest';
import type { Alert, Frame } from '../../../../common/types.ts';
import { FrameProcessor, type FrameProcessorOptions } from '../../../../detector/service/processor.ts';
import { TopologyAdjacency } from '../../../../detector/service/topology.ts';
import { applyChange, createTopology, exportClusters, type Topology } from '../../../../topology/index.ts';
import { testPolicy } from '../alerts/sample-alert.ts';
import { sensorNode } from '../../topology/fixtures.ts';
import { FakeModel } from './fake-model.ts';
import { decodeCheckpoint, encodeCheckpointBinary } from '../../../../detector/state/checkpoint.ts';

const T = 31_000;
/** Node 7 runs hot: judged, it would be anomalous at once (FakeModel: probability from the temperature). */
const HOT = new Set(['7']);

/** Two clusters far apart: c-1 = {1, 2, 3}, c-4 = {4, 5, 6}. */
function labTopology(): Topology {
  const at = (id: string, x: number, y: number) => sensorNode(id, x, y, ['temperature', 'humidity']);
  return createTopology(
    [at('1', 0, 0), at('2', 1, 0), at('3', 2, 0), at('4', 100, 0), at('5', 101, 0), at('6', 102, 0)],
    {
      edgeRule: { knn: 2 },
      cluster: { maxSize: 4 },
    },
  );
}

/** v2: node 5 removed, node 7 added next to 1, node 2 moved inside c-1, node 3 moved over to c-4. */
function changeToV2(topology: Topology): void {
  applyChange(topology, { kind: 'leave', id: '5' });
  applyChange(topology, { kind: 'join', node: sensorNode('7', 0, 1, ['temperature', 'humidity']) });
  applyChange(topology, { kind: 'move', id: '2', position: { x: 1, y: 1 } });
  applyChange(topology, { kind: 'move', id: '3', position: { x: 101, y: 1 } });
}

/** The frames ingest builds at `tick` for the topology's clusters. */
function framesAt(topology: Topology, version: string, tick: number): Frame[] {
  return exportClusters(topology).map((cluster) => ({
    network: 'lab',
    cluster: cluster.id,
    tick,
    topologyVersion: version,
    nodes: cluster.nodes.map((node) => ({
      node,
      values: { temperature: HOT.has(node) ? 20 : 1, humidity: 4 },
      staleTicks: 0,
      silent: false,
    })),
  }));
}

/** A processor on the FakeModel at tick T, with `options` on top (the topology followed, if any). */
function processorWith(options: Partial<FrameProcessorOptions> = {}): FrameProcessor {
  return new FrameProcessor({ model: new FakeModel(), policy: testPolicy(), tickMs: T, ...options });
}

/** Ticks 1–3 on v1, then the topology becomes v2 (the next frames carry the change). */
async function runV1ThenChange(processor: FrameProcessor, topology: Topology): Promise<void> {
  for (let tick = 1; tick <= 3; tick++) await processor.process(framesAt(topology, 'v1', tick * T));
  changeToV2(topology);
}

/** The four changes of v2 as a followed topology names them, all `status` and started at tick `tick`. */
function v2Changes(status: 'firing' | 'resolved', tick: number): string[] {
  return ['c-1 2 moved', 'c-1 7 added', 'c-4 3 moved', 'c-4 5 removed'].map((change) => `${status} ${change} @${tick}`);
}

function topologyAlerts(alerts: Alert[]): string[] {
  return alerts
    .filter((alert) => alert.kind === 'topology')
    .map((alert) => `${alert.status} ${alert.cluster} ${alert.node} ${alert.change} @${alert.startsAt / T}`)
    .sort();
}

describe('FrameProcessor: topology changes without retraining', () => {
  it('scores an added or moved node from its first tick, drops a removed one, and names every change once', async () => {
    const topology = labTopology();
    const source = new TopologyAdjacency();
    source.update(topology, 'v1');
    const processor = processorWith({ adjacency: source.provider, topologyChanges: source, topologyAlertMs: 3 * T });
    for (let tick = 1; tick <= 4; tick++) await processor.process(framesAt(topology, 'v1', tick * T));

    changeToV2(topology);
    source.update(topology, 'v2');
    const first = await processor.process(framesAt(topology, 'v2', 5 * T));
    expect(topologyAlerts(first.alerts)).toEqual(v2Changes('firing', 5));
    expect(first.alerts.find((a) => a.node === '7')?.topologyVersion).toBe('v2');
    const scored = first.scores.flatMap((score) => score.nodes.map((node) => node.node)).sort();
    expect(scored).toEqual(['1', '2', '3', '4', '6', '7']);
    // New to their clusters (zero window): 7 and 3 are scored but not judged yet, however hot 7 is.
    const seven = first.scores.flatMap((s) => s.nodes).find((n) => n.node === '7')!;
    expect(seven.probability).toBeGreaterThan(0.5);
    expect(seven.isAnomaly).toBe(false);
    expect(first.warmingNodeTicks).toBe(2);

    const second = await processor.process(framesAt(topology, 'v2', 6 * T));
    expect(topologyAlerts(second.alerts)).toEqual([]);
    expect(second.warmingNodeTicks).toBe(2);
    // Window 3: from its third tick in the cluster, node 7 is judged (and is anomalous).
    const third = await processor.process(framesAt(topology, 'v2', 7 * T));
    expect(third.warmingNodeTicks).toBe(0);
    expect(third.scores.flatMap((s) => s.nodes).find((n) => n.node === '7')?.isAnomaly).toBe(true);
    expect(processor.firingAlerts().filter((a) => a.kind === 'topology')).toHaveLength(4);

    const resolved = await processor.process(framesAt(topology, 'v2', 8 * T));
    expect(topologyAlerts(resolved.alerts)).toEqual(v2Changes('resolved', 5));
  });

  it('when the followed topology lags the frames, names the changes once it knows the version, from their first tick', async () => {
    const topology = labTopology();
    const source = new TopologyAdjacency();
    source.update(topology, 'v1');
    const processor = processorWith({ topologyChanges: source });
    await runV1ThenChange(processor, topology);
    const early = await processor.process(framesAt(topology, 'v2', 4 * T));
    expect(topologyAlerts(early.alerts)).toEqual([]);
    // Scored from the first tick all the same.
    expect(early.scores.flatMap((s) => s.nodes.map((n) => n.node))).toContain('7');
    source.update(topology, 'v2');
    const later = await processor.process(framesAt(topology, 'v2', 5 * T));
    expect(topologyAlerts(later.alerts)).toEqual(v2Changes('firing', 4));
  });

  it('without a followed topology: the node lists alone, a move between clusters reads as removed and added', async () => {
    const topology = labTopology();
    const processor = processorWith();
    await runV1ThenChange(processor, topology);
    const result = await processor.process(framesAt(topology, 'v2', 4 * T));
    expect(topologyAlerts(result.alerts)).toEqual([
      'firing c-1 3 removed @4',
      'firing c-1 7 added @4',
      'firing c-4 3 added @4',
      'firing c-4 5 removed @4',
    ]);
  });

  it('a node still warming when its cluster is checkpointed is still warming where the checkpoint is restored', async () => {
    const topology = labTopology();
    const source = new TopologyAdjacency();
    source.update(topology, 'v1');
    const before = processorWith({ adjacency: source.provider, topologyChanges: source });
    await runV1ThenChange(before, topology);
    source.update(topology, 'v2');
    expect((await before.process(framesAt(topology, 'v2', 4 * T))).warmingNodeTicks).toBe(2);
    // Through the state topic's encoding, to another replica (a restart or a rebalance).
    const checkpoints = new Map(
      before
        .clusters()
        .map((cluster) => [cluster, decodeCheckpoint(encodeCheckpointBinary(before.checkpoint(cluster)))]),
    );
    expect(checkpoints.get('c-1')?.joined).toEqual({ '7': 4 * T });
    const after = processorWith({ adjacency: source.provider, topologyChanges: source });
    after.adoptCheckpoints(checkpoints);

    // Window 3: nodes 7 (added) and 3 (moved in) joined at tick 4, so tick 5 is still their warm-up.
    const fifth = await after.process(framesAt(topology, 'v2', 5 * T));
    expect(fifth.warmingNodeTicks).toBe(2);
    expect(fifth.scores.flatMap((s) => s.nodes).find((n) => n.node === '7')?.isAnomaly).toBe(false);
    const sixth = await after.process(framesAt(topology, 'v2', 6 * T));
    expect(sixth.warmingNodeTicks).toBe(0);
    expect(sixth.scores.flatMap((s) => s.nodes).find((n) => n.node === '7')?.isAnomaly).toBe(true);
  });

  it('topology alerts firing when the cluster is checkpointed are resolved by the replica that restores it', async () => {
    const topology = labTopology();
    const source = new TopologyAdjacency();
    source.update(topology, 'v1');
    const options = { adjacency: source.provider, topologyChanges: source, topologyAlertMs: 3 * T };
    const before = processorWith(options);
    await runV1ThenChange(before, topology);
    source.update(topology, 'v2');
    expect(topologyAlerts((await before.process(framesAt(topology, 'v2', 4 * T))).alerts)).toEqual(
      v2Changes('firing', 4),
    );
    // Through the state topic's encoding, to another replica (a restart or a rebalance).
    const checkpoints = new Map(
      before
        .clusters()
        .map((cluster) => [cluster, decodeCheckpoint(encodeCheckpointBinary(before.checkpoint(cluster)))]),
    );
    expect(checkpoints.get('c-4')?.topologyAlerts?.map((held) => held.resolvesAt)).toEqual([7 * T, 7 * T]);
    const after = processorWith(options);
    after.adoptCheckpoints(checkpoints);

    const fifth = await after.process(framesAt(topology, 'v2', 5 * T));
    expect(topologyAlerts(fifth.alerts)).toEqual([]);
    expect(topologyAlerts(after.firingAlerts())).toEqual(v2Changes('firing', 4));
    await after.process(framesAt(topology, 'v2', 6 * T));
    const resolved = await after.process(framesAt(topology, 'v2', 7 * T));
    expect(topologyAlerts(resolved.alerts)).toEqual(v2Changes('resolved', 4));
    const moved = resolved.alerts.find((alert) => alert.node === '3' && alert.cluster === 'c-4');
    expect(moved).toMatchObject({ change: 'moved', topologyVersion: 'v2', endsAt: 7 * T });
    expect(after.firingAlerts().filter((alert) => alert.kind === 'topology')).toEqual([]);
  });

  it('a batch that fails is rolled back with its topology alerts, and the redelivered batch names them again', async () => {
    const topology = labTopology();
    const processor = processorWith();
    await runV1ThenChange(processor, topology);
    const failed = await processor.process(framesAt(topology, 'v2', 4 * T));
    expect(topologyAlerts(failed.alerts)).toHaveLength(4);
    failed.rollback();
    expect(processor.firingAlerts().filter((a) => a.kind === 'topology')).toEqual([]);
    const again = await processor.process(framesAt(topology, 'v2', 4 * T));
    expect(topologyAlerts(again.alerts)).toEqual(topologyAlerts(failed.alerts));
  });
});
