import type { ModelConfig } from './config.ts';
import {
  DEFAULT_CONTEXT_CONFIG,
  cloneContextState,
  contextHistorySize,
  contextRowSize,
  contextStateFromFloat64Rows,
  createContextState,
  resizeContextState,
  type ContextState,
} from './context.ts';

/**
 * The streaming state of one cluster, keyed by node id so nodes can join and
 * leave: the last `window` samples of every node and modality, and the GRU
 * hidden state of every node, and the slow context. Typed arrays; JSON
 * through serializeClusterState, checkpoints through detector/state.
 */
export interface ClusterState {
  nodes: string[];
  /** N × M × W, oldest sample first along W (z-normalized values). */
  windows: Float32Array;
  /** layers × N × units. */
  hidden: Float32Array;
  /** How many samples have been pushed so far, capped at the window length. */
  filled: number;
  /**
   * The slow context path's state (model/context.ts), N × M rows. Created by
   * createClusterState; a state without it (built by hand) gets a fresh one
   * on its first Detector.step.
   */
  context?: ContextState;
}

/** The JSON form of a ClusterState (Float32Arrays as number arrays). */
export interface ClusterStateJson {
  nodes: string[];
  windows: number[];
  hidden: number[];
  filled: number;
  /**
   * The context state: ticks stepped, its rows of float64 scalars and its
   * float32 history. Without `history` (written before it was kept apart),
   * `values` holds whole float64 rows with the history last.
   */
  context?: { ticks: number; values: number[]; history?: number[] };
}

type StateShape = Pick<ModelConfig, 'modalities' | 'window' | 'gruLayers' | 'gruUnits'> &
  Partial<Pick<ModelConfig, 'context'>>;

export function createClusterState(nodes: string[], config: StateShape): ClusterState {
  if (new Set(nodes).size !== nodes.length) throw new RangeError('createClusterState: duplicate node ids');
  const n = nodes.length;
  return {
    nodes: [...nodes],
    windows: new Float32Array(n * config.modalities.length * config.window),
    hidden: new Float32Array(config.gruLayers * n * config.gruUnits),
    filled: 0,
    context: createContextState(n, config.modalities.length, config.context ?? DEFAULT_CONTEXT_CONFIG),
  };
}

/** A deep copy (windows, hidden state and context). */
export function cloneClusterState(state: ClusterState): ClusterState {
  const copy: ClusterState = {
    nodes: [...state.nodes],
    windows: state.windows.slice(),
    hidden: state.hidden.slice(),
    filled: state.filled,
  };
  if (state.context) copy.context = cloneContextState(state.context);
  return copy;
}

/**
 * The state for a new node list: surviving nodes keep their windows and
 * hidden state, new nodes start from zeros (the mean of a z-normalized
 * series) and a zero hidden state; departed nodes are dropped.
 */
export function resizeClusterState(state: ClusterState, newNodes: string[], config: StateShape): ClusterState {
  const next = createClusterState(newNodes, config);
  next.filled = state.filled;
  if (state.context)
    next.context = resizeContextState(
      state.context,
      state.nodes,
      newNodes,
      config.modalities.length,
      config.context ?? DEFAULT_CONTEXT_CONFIG,
    );
  const oldIndex = new Map(state.nodes.map((node, i) => [node, i]));
  const rowLength = config.modalities.length * config.window;
  const oldN = state.nodes.length;
  const newN = newNodes.length;
  newNodes.forEach((node, j) => {
    const i = oldIndex.get(node);
    if (i === undefined) return;
    next.windows.set(state.windows.subarray(i * rowLength, (i + 1) * rowLength), j * rowLength);
    for (let layer = 0; layer < config.gruLayers; layer++) {
      const from = (layer * oldN + i) * config.gruUnits;
      next.hidden.set(state.hidden.subarray(from, from + config.gruUnits), (layer * newN + j) * config.gruUnits);
    }
  });
  return next;
}

/**
 * Appends one tick (N × M values, node-major) to the windows, shifting out
 * the oldest sample. A NaN value (missing reading) repeats the node's
 * previous sample for that modality.
 */
/** Whether a node × modality window still holds only the zero start value (no reading yet). */
function neverSeen(windows: Float32Array, base: number, w: number): boolean {
  for (let i = base; i < base + w; i++) if (windows[i] !== 0) return false;
  return true;
}

export function pushSample(state: ClusterState, values: Float32Array, config: StateShape): void {
  const m = config.modalities.length;
  const w = config.window;
  const n = state.nodes.length;
  if (values.length !== n * m)
    throw new RangeError(`pushSample: expected ${n * m} values (${n} nodes × ${m} modalities), got ${values.length}`);
  for (let row = 0; row < n * m; row++) {
    const base = row * w;
    const previous = state.windows[base + w - 1];
    const value = values[row];
    if (Number.isFinite(value) && neverSeen(state.windows, base, w)) {
      // A node whose first reading comes after the stream started: its window held the
      // zero start value, and a step from it to the first reading is no anomaly of the node.
      state.windows.fill(value, base, base + w);
      continue;
    }
    state.windows.copyWithin(base, base + 1, base + w);
    state.windows[base + w - 1] = Number.isFinite(value) ? value : previous;
  }
  state.filled = Math.min(w, state.filled + 1);
}

export function serializeClusterState(state: ClusterState): ClusterStateJson {
  const json: ClusterStateJson = {
    nodes: [...state.nodes],
    windows: Array.from(state.windows),
    hidden: Array.from(state.hidden),
    filled: state.filled,
  };
  if (state.context) {
    const { ticks, values, history } = state.context;
    json.context = { ticks, values: Array.from(values), history: Array.from(history) };
  }
  return json;
}

/** Rebuilds a ClusterState from JSON, checking its sizes against the model's shape. */
export function deserializeClusterState(json: ClusterStateJson, config: StateShape): ClusterState {
  const n = json.nodes.length;
  const windows = n * config.modalities.length * config.window;
  const hidden = config.gruLayers * n * config.gruUnits;
  if (!Array.isArray(json.windows) || json.windows.length !== windows)
    throw new RangeError(`cluster state: windows has ${json.windows?.length} values, expected ${windows}`);
  if (!Array.isArray(json.hidden) || json.hidden.length !== hidden)
    throw new RangeError(`cluster state: hidden has ${json.hidden?.length} values, expected ${hidden}`);
  const state: ClusterState = {
    nodes: [...json.nodes],
    windows: Float32Array.from(json.windows),
    hidden: Float32Array.from(json.hidden),
    filled: Math.min(config.window, Math.max(0, Math.trunc(json.filled))),
  };
  if (json.context) state.context = contextFromJson(json.context, n * config.modalities.length, config);
  return state;
}

/** The context state of a ClusterStateJson, of either layout, checked against `rows` node × modality rows. */
function contextFromJson(
  json: NonNullable<ClusterStateJson['context']>,
  rows: number,
  config: StateShape,
): ContextState {
  const context = config.context ?? DEFAULT_CONTEXT_CONFIG;
  const split = json.history !== undefined;
  const expected = rows * (contextRowSize(context) + (split ? 0 : contextHistorySize(context)));
  if (!Array.isArray(json.values) || json.values.length !== expected)
    throw new RangeError(`cluster state: context has ${json.values?.length} values, expected ${expected}`);
  if (!(Number.isInteger(json.ticks) && json.ticks >= 0))
    throw new RangeError(`cluster state: context.ticks must be a non-negative integer, got ${json.ticks}`);
  if (!split) return contextStateFromFloat64Rows(json.ticks, Float64Array.from(json.values), context);
  const history = rows * contextHistorySize(context);
  if (!Array.isArray(json.history) || json.history.length !== history)
    throw new RangeError(`cluster state: context history has ${json.history?.length} values, expected ${history}`);
  return { ticks: json.ticks, values: Float64Array.from(json.values), history: Float32Array.from(json.history) };
}

/** Bytes a cluster state holds in typed arrays, by part (what the detector keeps per cluster for the model). */
export interface ClusterStateBytes {
  /** The sliding windows, N × M × W float32. */
  windows: number;
  /** The GRU hidden state. */
  hidden: number;
  /** The slow context's running scalars and PAA segment sums. */
  contextScalars: number;
  /** The slow context's history: the ring of the last segments × segmentTicks values of r − b. */
  contextHistory: number;
}

export function clusterStateBytes(state: ClusterState): ClusterStateBytes {
  return {
    windows: state.windows.byteLength,
    hidden: state.hidden.byteLength,
    contextScalars: state.context?.values.byteLength ?? 0,
    contextHistory: state.context?.history.byteLength ?? 0,
  };
}
