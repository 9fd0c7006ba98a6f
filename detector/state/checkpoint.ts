import { z } from 'zod';
import type { BudgetStateJson } from '../alerts/false-alert-budget.ts';
import type { ClusterAlertStateJson } from '../alerts/tracker.ts';
import type { StuckStateJson } from '../alerts/stuck.ts';
import type { StoredJumpsState } from '../alerts/jumps.ts';
import { packedJumpsProblem, type PackedJumps } from '../alerts/packed-jumps.ts';
import { packedStuckProblem, type PackedStuck } from '../alerts/packed-stuck.ts';
import type { HeldTopologyAlert } from '../alerts/topology-changes.ts';
import {
  contextHistorySize,
  contextRowSize,
  contextStateFromFloat64Rows,
  DEFAULT_CONTEXT_CONFIG,
  type ClusterState,
} from '../../model/index.ts';
import { describeZodIssues } from '../../common/zod-issues.ts';
import { isBinaryCheckpoint, packFloatArrays, unpackFloatArrays } from './binary.ts';

/**
 * Everything a replica needs to continue a cluster exactly where another one
 * stopped: the model's streaming state (windows, GRU hidden state), the last
 * tick processed (frames at or before it are skipped, so a replay adds
 * nothing) and the alert state machine. Published on the compacted state
 * topic keyed by cluster id, so the topic holds the latest one per cluster.
 */
export interface ClusterCheckpoint {
  format: typeof CHECKPOINT_FORMAT;
  network: string;
  cluster: string;
  /** Newest tick processed, UTC ms. */
  lastTick: number;
  /** The model shape the state belongs to; a checkpoint of another shape is not restored. */
  shape: StateShape;
  state: ClusterState;
  alerts: ClusterAlertStateJson;
  /** The alert threshold's false-alert budget on the stream (absent: the policy keeps none, or written before it existed). */
  alertBudget?: BudgetStateJson;
  /** The stuck-at statistics of the nodes' readings, packed (absent: switched off, or written before the packed form). */
  packedStuck?: PackedStuck;
  /** The same as checkpoints before the packed form held them: plain JSON per node and modality. */
  stuck?: StuckStateJson;
  /** The usual jumps of the nodes' readings, packed (absent: switched off, or written before the packed form). */
  packedJumps?: PackedJumps;
  /** The same as checkpoints before the packed form held them: plain JSON per node and modality. */
  jumps?: StoredJumpsState;
  /**
   * Nodes new to the cluster whose window and context are still filling, and the tick each joined (absent:
   * none, or written before it was kept). Without it a restored cluster judged them at once.
   */
  joined?: Record<string, number>;
  /**
   * The cluster's firing `topology` alerts and when each resolves (absent: none, or written before they were
   * kept). Without them a restored cluster never sent their resolution.
   */
  topologyAlerts?: HeldTopologyAlert[];
  /** Wall time of the checkpoint, UTC ms (for operators). */
  savedAt: number;
  /** The model version the state was computed with (absent before the registry existed). */
  model?: string;
}

export interface StateShape {
  modalities: string[];
  window: number;
  gruLayers: number;
  gruUnits: number;
}

export const CHECKPOINT_FORMAT = 'wsn-watch-detector-state/1';

/** A typed float array class: Float32Array or Float64Array. */
type FloatArrayType<T extends Float32Array | Float64Array> = {
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

/**
 * A schema for a float array of `Type`: as the binary form decodes it (a
 * typed array already), or base64 in the JSON form, rejecting a byte count
 * that is not whole elements.
 */
function base64FloatArray<T extends Float32Array | Float64Array>(Type: FloatArrayType<T>, name: string) {
  const size = Type.BYTES_PER_ELEMENT;
  const fromBase64 = z.string().transform((text, ctx) => {
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length % size !== 0) {
      ctx.addIssue({
        code: 'custom',
        message: `base64 ${name} data has ${bytes.length} bytes, not a multiple of ${size}`,
      });
      return z.NEVER;
    }
    // Copy into an aligned buffer: Buffer.from may hand out an offset into a shared pool.
    const values = new Type(bytes.length / size);
    new Uint8Array(values.buffer).set(bytes);
    return values;
  });
  const typed = z.custom<T>((value) => value instanceof Type, { message: `expected ${name} data` });
  return z.union([typed, fromBase64]);
}

const base64Floats = base64FloatArray(Float32Array, 'float32');
const base64Doubles = base64FloatArray(Float64Array, 'float64');

const AlertSchema = z.object({
  id: z.string(),
  kind: z.enum(['anomaly', 'silent']),
  status: z.enum(['firing', 'resolved']),
  network: z.string(),
  cluster: z.string(),
  node: z.string(),
  modality: z.string(),
  probability: z.number(),
  startsAt: z.number(),
  endsAt: z.number().optional(),
  dashboardUrl: z.string(),
});

const TopologyAlertSchema = AlertSchema.extend({
  kind: z.literal('topology'),
  change: z.enum(['added', 'moved', 'removed']),
  topologyVersion: z.string(),
});

/** Size weights as binary checkpoints before the packed form kept them (raw float64), back as the list the state holds. */
const rawWeights = z
  .instanceof(Float64Array)
  .refine((weights) => weights.every((weight) => weight >= 0), { message: 'expected weights of 0 or more' })
  .transform((weights) => Array.from(weights));

/** A node's jump or gap-change weights: the dense lists, or by bucket number as checkpoints before them kept them. */
const sizeWeightsSchema = z.union([
  z.object({
    zero: z.number().nonnegative(),
    low: z.number().int(),
    weights: z.union([z.array(z.number().nonnegative()), rawWeights]),
    // The unit the weights are in (jumps.ts); absent before it existed: 1.
    unit: z.number().positive().optional(),
  }),
  z.record(z.string().regex(/^\d+$/), z.number().nonnegative()),
]);

/**
 * A packed form of per-reading statistics (packed-readings.ts): names, then float64 arrays (typed in the binary form,
 * base64 in the JSON form), checked as a whole by `problem`.
 */
function packedSchema<Shape extends z.ZodRawShape, Packed>(
  arrays: Shape,
  problem: (packed: Packed) => string | undefined,
) {
  return z
    .object({
      modalities: z.array(z.string()),
      nodes: z.array(z.string()),
      readings: base64Doubles,
      fields: base64Doubles,
      ...arrays,
    })
    .superRefine((packed, ctx) => {
      const found = problem(packed as Packed);
      if (found) ctx.addIssue({ code: 'custom', message: found });
    });
}

const CheckpointSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  network: z.string().min(1),
  cluster: z.string().min(1),
  lastTick: z.number().int(),
  shape: z.object({
    modalities: z.array(z.string()).min(1),
    window: z.number().int().positive(),
    gruLayers: z.number().int().positive(),
    gruUnits: z.number().int().positive(),
  }),
  state: z.object({
    nodes: z.array(z.string()),
    windows: base64Floats,
    hidden: base64Floats,
    filled: z.number().int().nonnegative(),
    // The model's slow context path: float64 scalars and float32 history, exact; a state without one starts it afresh.
    // Without `history` (written before it was kept apart), `values` holds whole float64 rows with the history last.
    context: z
      .object({ ticks: z.number().int().nonnegative(), values: base64Doubles, history: base64Floats.optional() })
      .optional(),
  }),
  alerts: z.record(
    z.string(),
    z.object({
      above: z.number().int().nonnegative(),
      aboveSince: z.number().nullable(),
      clear: z.number().int().nonnegative(),
      firing: AlertSchema.nullable(),
      // Added after format /1 was published: optional, so older checkpoints still restore (the run's modality sums restart empty).
      errors: z.record(z.string(), z.number()).optional(),
      // The same sums weighed for naming the alert's modality (tracker.ts): optional, older checkpoints name by `errors`.
      named: z.record(z.string(), z.number()).optional(),
    }),
  ),
  alertBudget: z
    .object({
      exposure: z.number().nonnegative(),
      excursions: z.number().nonnegative(),
      excess: z.number().nonnegative(),
      excessSquares: z.number().nonnegative(),
      open: z.record(
        z.string(),
        z.object({ peak: z.number(), below: z.number().int().nonnegative(), censoredAt: z.number().nullable() }),
      ),
      errors: z.object({ weight: z.number().nonnegative(), sums: z.record(z.string(), z.number()) }).optional(),
      nodes: z
        .record(z.string(), z.object({ exposure: z.number().nonnegative(), excursions: z.number().nonnegative() }))
        .optional(),
    })
    .optional(),
  // Added after format /1 was published: optional, so older checkpoints still restore (the runs are learnt afresh).
  stuck: z
    .record(
      z.string(),
      z.record(
        z.string(),
        z.object({
          value: z.number(),
          repeats: z.number().int().positive(),
          since: z.number(),
          stuck: z.boolean(),
          step: z.number().nonnegative(),
          runs: z.record(z.string().regex(/^\d+$/), z.number().nonnegative()),
        }),
      ),
    )
    .optional(),
  // Added after format /1 was published: optional, so older checkpoints still restore (the usual jumps are learnt afresh).
  jumps: z
    .record(
      z.string(),
      z.record(
        z.string(),
        z.object({
          recent: z.array(z.number()),
          gaps: z.array(z.number()),
          step: z.number().nonnegative(),
          seen: z.number().int().nonnegative(),
          jumps: sizeWeightsSchema,
          gapJumps: sizeWeightsSchema,
          sinceJump: z.number().int().nonnegative().nullable(),
        }),
      ),
    )
    .optional(),
  // Added after format /1 was published, as the forms the statistics are written in; an older replica ignores them.
  packedStuck: packedSchema({ runs: base64Doubles }, packedStuckProblem).optional(),
  packedJumps: packedSchema({ values: base64Doubles }, packedJumpsProblem).optional(),
  joined: z.record(z.string(), z.number()).optional(),
  topologyAlerts: z.array(z.object({ alert: TopologyAlertSchema, resolvesAt: z.number() })).optional(),
  savedAt: z.number(),
  model: z.string().optional(),
});

function floatsToBase64(values: Float32Array | Float64Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/** JSON with the float arrays as base64 float32: exact round trip, a quarter of the size of number lists. */
export function encodeCheckpoint(checkpoint: ClusterCheckpoint): string {
  const { state, packedStuck, packedJumps } = checkpoint;
  return JSON.stringify({
    ...checkpoint,
    ...(packedStuck ? { packedStuck: withBase64Arrays(packedStuck) } : {}),
    ...(packedJumps ? { packedJumps: withBase64Arrays(packedJumps) } : {}),
    state: {
      nodes: state.nodes,
      windows: floatsToBase64(state.windows),
      hidden: floatsToBase64(state.hidden),
      filled: state.filled,
      ...(state.context
        ? {
            context: {
              ticks: state.context.ticks,
              values: floatsToBase64(state.context.values),
              history: floatsToBase64(state.context.history),
            },
          }
        : {}),
    },
  });
}

/** A packed form with its float arrays as base64, for the JSON form. */
function withBase64Arrays(packed: PackedStuck | PackedJumps): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(packed).map(([key, value]) => [key, value instanceof Float64Array ? floatsToBase64(value) : value]),
  );
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/**
 * The binary form (binary.ts), what the checkpoint store writes: the state's
 * float arrays and the packed stuck and jump statistics as raw bytes after a
 * JSON header. decodeCheckpoint reads both forms, and the binary checkpoints
 * written before the packed form (their JSON jump statistics' size weights
 * raw float64).
 */
export function encodeCheckpointBinary(checkpoint: ClusterCheckpoint): Buffer {
  return packFloatArrays(checkpoint);
}

/** A checkpoint's value before its fields are checked: binary (by its magic) or JSON. */
function parseCheckpoint(bytes: string | Buffer): unknown {
  if (typeof bytes !== 'string' && isBinaryCheckpoint(bytes)) {
    try {
      return unpackFloatArrays(bytes);
    } catch (error) {
      throw new CheckpointError(`binary checkpoint is unreadable: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(bytes.toString());
  } catch (error) {
    throw new CheckpointError(`checkpoint is not JSON: ${(error as Error).message}`);
  }
}

/** Parses and checks a checkpoint, binary or JSON (format, fields, array sizes against its shape); CheckpointError says what is wrong. */
export function decodeCheckpoint(text: string | Buffer): ClusterCheckpoint {
  const json = parseCheckpoint(text);
  const parsed = CheckpointSchema.safeParse(json);
  if (!parsed.success) {
    throw new CheckpointError(`invalid checkpoint: ${describeZodIssues(parsed.error)}`);
  }
  const { state: parsedState, ...rest } = parsed.data;
  const { context, ...model } = parsedState;
  const checkpoint: ClusterCheckpoint = { ...rest, state: model };
  const { shape, state } = checkpoint;
  const n = state.nodes.length;
  const windows = n * shape.modalities.length * shape.window;
  const hidden = shape.gruLayers * n * shape.gruUnits;
  if (state.windows.length !== windows)
    throw new CheckpointError(
      `checkpoint of cluster ${checkpoint.cluster}: windows has ${state.windows.length} values, expected ${windows}`,
    );
  if (state.hidden.length !== hidden)
    throw new CheckpointError(
      `checkpoint of cluster ${checkpoint.cluster}: hidden has ${state.hidden.length} values, expected ${hidden}`,
    );
  const restoredContext = context && contextOf(checkpoint.cluster, context, n * shape.modalities.length);
  if (restoredContext) state.context = restoredContext;
  if (state.filled > shape.window)
    throw new CheckpointError(
      `checkpoint of cluster ${checkpoint.cluster}: filled ${state.filled} exceeds the window ${shape.window}`,
    );
  return checkpoint;
}

/**
 * A checkpoint's context state, checked for whole rows per node × modality
 * (their length depends on the model's context settings, which the shape
 * does not carry: the detector starts a context of another size afresh).
 * One written before the history was kept apart is split into the current
 * layout, its history rounded to float32, when its rows are those of the
 * default context settings; rows of other settings cannot be split without
 * them, and that context starts afresh.
 */
function contextOf(
  cluster: string,
  context: { ticks: number; values: Float64Array; history?: Float32Array },
  rows: number,
): ClusterState['context'] {
  const { ticks, values, history } = context;
  const whole = (count: number): boolean => count % (rows || 1) === 0;
  if (!whole(values.length) || (history && !whole(history.length)))
    throw new CheckpointError(
      `checkpoint of cluster ${cluster}: context has ${values.length} values${history ? ` and ${history.length} of history` : ''}, not a whole row per node × modality`,
    );
  if (history) return { ticks, values, history };
  const defaultRow = contextRowSize(DEFAULT_CONTEXT_CONFIG) + contextHistorySize(DEFAULT_CONTEXT_CONFIG);
  if (values.length !== rows * defaultRow) return undefined;
  return contextStateFromFloat64Rows(ticks, values, DEFAULT_CONTEXT_CONFIG);
}

/** True when a checkpoint's state fits a model of this shape. */
export function sameShape(a: StateShape, b: StateShape): boolean {
  return (
    a.window === b.window &&
    a.gruLayers === b.gruLayers &&
    a.gruUnits === b.gruUnits &&
    a.modalities.join('\u0000') === b.modalities.join('\u0000')
  );
}
