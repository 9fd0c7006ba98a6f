import type { Frame, FrameNode, Modality } from '../../../common/types.ts';

/** The tick of the detector's unit tests (the IBRL round), in ms. */
export const LAB_TICK_MS = 31_000;

/** A frame of network `lab` at tick `t` (in ticks of LAB_TICK_MS), topology v1. */
export function labFrame(t: number, nodes: FrameNode[], cluster = 'a'): Frame {
  return { network: 'lab', cluster, tick: t * LAB_TICK_MS, topologyVersion: 'v1', nodes };
}

/** A node of a test frame: a fresh reading of a node that is not silent unless told. */
export function labNode(
  node: string,
  values: Record<Modality, number | null>,
  { staleTicks = 0, silent = false }: { staleTicks?: number; silent?: boolean } = {},
): FrameNode {
  return { node, values, staleTicks, silent };
}
