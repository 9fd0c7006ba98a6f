import {
  createClusterState,
  pushSample,
  resizeClusterState,
  type ClusterStepInput,
  type ClusterStepOutput,
} from '../../../../model/index.ts';
import type { StreamingModel } from '../../../../detector/service/model.ts';
import type { Frame } from '../../../../common/types.ts';

/**
 * A deterministic stand-in for the trained detector with real cluster state:
 * the "GRU" state of a node is an exponential average of its normalized
 * temperature, and its probability grows with it, so scores depend on the
 * whole history (a lost or replayed tick changes them).
 */
export class FakeModel implements StreamingModel {
  readonly config = { modalities: ['temperature', 'humidity'], window: 3, gruLayers: 1, gruUnits: 2 };
  readonly threshold = 0.5;
  /** Clusters per step call. */
  readonly calls: number[] = [];

  createState(nodes: string[]) {
    return createClusterState(nodes, this.config);
  }

  resizeState(state: ReturnType<FakeModel['createState']>, nodes: string[]) {
    return resizeClusterState(state, nodes, this.config);
  }

  normalizeValues(_nodes: string[], raw: Float32Array): Float32Array {
    return raw.map((value) => value / 10);
  }

  async step(batch: ClusterStepInput[]): Promise<ClusterStepOutput[]> {
    this.calls.push(batch.length);
    return batch.map(({ state, values }) => {
      pushSample(state, values, this.config);
      const n = state.nodes.length;
      const ready = state.filled >= this.config.window;
      const node = new Float32Array(n);
      const reconstruction = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        const latest = state.windows[(i * 2 + 0) * 3 + 2];
        const humidity = state.windows[(i * 2 + 1) * 3 + 2];
        if (ready) {
          state.hidden[i * 2] = 0.5 * state.hidden[i * 2] + latest;
          node[i] = Math.min(1, Math.abs(state.hidden[i * 2]) / 2);
          reconstruction[i * 2] = latest * latest;
          reconstruction[i * 2 + 1] = humidity * humidity;
        }
      }
      return { state, ready, cluster: ready ? Math.max(...node) : 0, node, reconstruction };
    });
  }
}

/** A frame whose node temperatures are given (humidity fixed at 4). */
export function frameOf(
  cluster: string,
  tick: number,
  temperatures: Record<string, number | null>,
  silent: string[] = [],
): Frame {
  return {
    network: 'lab',
    cluster,
    tick,
    topologyVersion: 'v1',
    nodes: Object.entries(temperatures).map(([node, temperature]) => ({
      node,
      values: { temperature, humidity: 4 },
      staleTicks: 0,
      silent: silent.includes(node),
    })),
  };
}
