/**
 * Node positions for Grafana's network map. The detector's measurements carry
 * no coordinates, so the map reads them from their own measurement,
 * `node_position` (tags network, node, cluster; fields x, y), written once
 * when the detector (or a topology change) starts. The built-in dashboard
 * does not need it: it gets positions from the topology directly.
 */
import type { IPoint } from 'influx';
import type { TopologyView } from '../topology/view.ts';

export const NODE_POSITION_MEASUREMENT = 'node_position';

/** Anything that writes points to InfluxDB, e.g. store/influx-sink.ts InfluxSink. */
export interface PointWriter {
  writePoints(points: IPoint[]): Promise<void>;
}

/** One point per node. `time` (UTC ms) is when this layout took effect; the map takes the last one. */
export function nodePositionPoints(view: TopologyView, time: number): IPoint[] {
  return view.nodes.map((placement) => ({
    measurement: NODE_POSITION_MEASUREMENT,
    tags: { network: view.network, node: placement.node, cluster: placement.cluster },
    fields: { x: placement.x, y: placement.y },
    timestamp: time,
  }));
}

export async function writeNodePositions(writer: PointWriter, view: TopologyView, time = Date.now()): Promise<number> {
  const points = nodePositionPoints(view, time);
  await writer.writePoints(points);
  return points.length;
}
