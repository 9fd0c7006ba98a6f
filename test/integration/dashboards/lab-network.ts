/**
 * A small lab network for the dashboard suites: 12 nodes in 3 clusters on a
 * 30 m × 20 m floor, IBRL-like values, and one node (7) whose temperature
 * runs away from the model's reconstruction at the end.
 */
import type { Alert, ClusterScore, Frame } from '../../../common/types.ts';
import type { ResultBatch } from '../../../store/sink.ts';
import type { TopologyView } from '../../../store/results.ts';

export const NETWORK = 'lab';
export const TICK_MS = 31_000;
export const T0 = Date.UTC(2004, 2, 1, 8, 0, 0);
export const ANOMALOUS_NODE = '7';
export const THRESHOLD = 0.5;

/**
 * Three rooms of four motes, laid out alike: where each mote stands from the
 * room's corner (m), and the radio links inside a room (by the mote's place in it).
 */
const ROOM_PLACES: Array<[x: number, y: number]> = [
  [0, 1],
  [4, 0],
  [2, 5],
  [6, 4],
];
const ROOM_LINKS: Array<[number, number]> = [
  [0, 1],
  [0, 2],
  [1, 3],
  [2, 3],
];
/** The rooms' clusters and corners, west to east; the last mote of a room links to the first of the next. */
const ROOMS: Array<[cluster: string, x: number, y: number]> = [
  ['c1', 2, 2],
  ['c2', 14, 2],
  ['c3', 22, 11],
];

/** Node ids 1..12, room by room. */
const idOf = (room: number, place: number): string => String(room * ROOM_PLACES.length + place + 1);
const PLAN: Array<[node: string, cluster: string, x: number, y: number]> = ROOMS.flatMap(([cluster, x0, y0], room) =>
  ROOM_PLACES.map(([x, y], place): [string, string, number, number] => [idOf(room, place), cluster, x0 + x, y0 + y]),
);

export const LAB_TOPOLOGY: TopologyView = {
  network: NETWORK,
  nodes: PLAN.map(([node, cluster, x, y]) => ({ node, cluster, x, y })),
  edges: ROOMS.flatMap((_, room) => [
    ...ROOM_LINKS.map(([a, b]): [string, string] => [idOf(room, a), idOf(room, b)]),
    ...(room + 1 < ROOMS.length ? [[idOf(room, ROOM_PLACES.length - 1), idOf(room + 1, 0)] as [string, string]] : []),
  ]),
};

/** Deterministic, smooth, slightly different per node. */
function normalValues(nodeIndex: number, tickIndex: number): Record<string, number> {
  const phase = tickIndex / 12 + nodeIndex * 0.4;
  return {
    temperature: 21 + nodeIndex * 0.15 + 0.8 * Math.sin(phase),
    humidity: 38 - nodeIndex * 0.2 + 1.5 * Math.cos(phase),
    light: 320 + 60 * Math.sin(phase / 2) + nodeIndex * 4,
    voltage: 2.68 - tickIndex * 0.0004,
  };
}

/** How far a good reconstruction strays from the truth, per modality (in its unit). */
const RECONSTRUCTION_WOBBLE: Record<string, number> = { temperature: 0.08, humidity: 0.2, light: 4, voltage: 0.001 };

function reconstructionOf(values: Record<string, number>, tickIndex: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [modality, value] of Object.entries(values))
    out[modality] = value + RECONSTRUCTION_WOBBLE[modality] * Math.sin(tickIndex * 0.9);
  return out;
}

/**
 * The batch of one tick. From `anomalyFrom` on, node 7's temperature climbs
 * 0.9 °C per tick while the reconstruction stays on its normal course.
 */
export function labBatch(tickIndex: number, anomalyFrom = Number.POSITIVE_INFINITY): ResultBatch {
  const tick = T0 + tickIndex * TICK_MS;
  const frames: Frame[] = [];
  const scores: ClusterScore[] = [];
  const alerts: Alert[] = [];
  for (const cluster of ['c1', 'c2', 'c3']) {
    const members = PLAN.filter((p) => p[1] === cluster);
    const frame: Frame = { network: NETWORK, cluster, tick, topologyVersion: 'test', nodes: [] };
    const score: ClusterScore = { network: NETWORK, cluster, tick, probability: 0, nodes: [] };
    for (const [node] of members) {
      const index = Number(node);
      const normal = normalValues(index, tickIndex);
      const values = { ...normal };
      let probability = 0.04 + (0.03 * ((index * 7 + tickIndex) % 5)) / 4;
      if (node === ANOMALOUS_NODE && tickIndex >= anomalyFrom) {
        const steps = tickIndex - anomalyFrom + 1;
        values.temperature = normal.temperature + 0.9 * steps;
        probability = Math.min(0.94, 0.35 + 0.2 * steps);
      }
      const reconstruction = reconstructionOf(normal, tickIndex);
      const reconstructionError: Record<string, number> = {};
      for (const modality of Object.keys(values))
        reconstructionError[modality] = ((values[modality] - reconstruction[modality]) / 5) ** 2;
      frame.nodes.push({ node, values, staleTicks: 0, silent: false });
      score.nodes.push({
        node,
        probability,
        score: probability * 10,
        reconstructionError,
        reconstruction,
        isAnomaly: probability >= THRESHOLD,
      });
      if (node === ANOMALOUS_NODE && probability >= THRESHOLD) {
        alerts.push({
          id: `${NETWORK}/${cluster}/${node}`,
          kind: 'anomaly',
          status: 'firing',
          network: NETWORK,
          cluster,
          node,
          modality: 'temperature',
          probability,
          startsAt: T0 + anomalyFrom * TICK_MS,
          dashboardUrl: `/node/${NETWORK}/${node}`,
        });
      }
    }
    score.probability = Math.max(...score.nodes.map((n) => n.probability));
    frames.push(frame);
    scores.push(score);
  }
  return { frames, scores, alerts };
}
