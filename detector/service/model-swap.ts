/**
 * Which model version scores which tick. A promoted version does not take
 * over at once: from the first tick after the newest one this replica has
 * processed (startTick) it runs beside the old one on every cluster, only to
 * warm up its own windows, GRU state and slow context; at switchTick =
 * startTick + warm-up ticks every cluster of the replica changes to it. So
 * every tick is scored exactly once, by the old version before switchTick and
 * by the new one from it on, and the new one starts with a warm state.
 */
import type { AlertPolicy } from '../alerts/tracker.ts';
import type { StreamingModel } from './model.ts';

/** A loaded model version and the alert policy that goes with it. */
export interface ModelSlot {
  /** The registry version (`v3`), or the folder of a pinned model. */
  readonly version: string;
  readonly model: StreamingModel;
  readonly policy: AlertPolicy;
  /** How the alert threshold in force was chosen, for the log line of the swap. */
  readonly thresholdNote?: string;
  /** Frees the model once no cluster uses it. */
  dispose?(): void;
}

export interface Swap {
  from: ModelSlot;
  to: ModelSlot;
  /** First tick the new version runs beside the old one. */
  startTick: number;
  /** First tick the new version scores. */
  switchTick: number;
}

/** What happened to a promotion handed to the switch. */
export type SwapPlan =
  | { kind: 'immediate'; from: ModelSlot; to: ModelSlot }
  | { kind: 'scheduled'; swap: Swap }
  | { kind: 'queued'; to: ModelSlot }
  | { kind: 'unchanged' };

/** The warm-up a version needs by default: its window filled and its slow context warm. */
export function defaultWarmupTicks(model: StreamingModel): number {
  return Math.max(model.config.window, model.config.context?.warmupTicks ?? 0);
}

export class ModelSwitch {
  private active: ModelSlot;
  private swap: Swap | undefined;
  private queued: { slot: ModelSlot; warmupTicks: number } | undefined;

  constructor(
    initial: ModelSlot,
    private readonly tickMs: number,
  ) {
    this.active = initial;
  }

  /** The version the replica is on or moving to. */
  get target(): ModelSlot {
    return this.queued?.slot ?? this.swap?.to ?? this.active;
  }

  inProgress(): Swap | undefined {
    return this.swap;
  }

  /** The version a cluster first seen (or restored) at `tick` is scored with. */
  slotAt(tick: number): ModelSlot {
    if (!this.swap) return this.active;
    return tick >= this.swap.switchTick ? this.swap.to : this.swap.from;
  }

  /**
   * Plans the change to `slot`. `newestTick` is the newest tick the replica
   * has processed (undefined: it holds no cluster, so the change is
   * immediate). A promotion during a swap waits for it to finish.
   */
  schedule(slot: ModelSlot, warmupTicks: number, newestTick: number | undefined): SwapPlan {
    if (slot.version === this.target.version) return { kind: 'unchanged' };
    if (this.swap) {
      if (this.queued && this.queued.slot !== slot) this.queued.slot.dispose?.();
      this.queued = { slot, warmupTicks };
      return { kind: 'queued', to: slot };
    }
    if (newestTick === undefined || !Number.isFinite(newestTick)) {
      const from = this.active;
      this.active = slot;
      return { kind: 'immediate', from, to: slot };
    }
    const startTick = newestTick + this.tickMs;
    this.swap = { from: this.active, to: slot, startTick, switchTick: startTick + warmupTicks * this.tickMs };
    return { kind: 'scheduled', swap: this.swap };
  }

  /**
   * Between batches: ends the swap once no cluster is on the old version any
   * more and the switch tick is reached, frees the old model, and starts a
   * queued promotion. Returns the finished swap and the newly scheduled plan.
   */
  settle(inUse: ReadonlySet<ModelSlot>, newestTick: number | undefined): { finished?: Swap; next?: SwapPlan } {
    const swap = this.swap;
    if (!swap || inUse.has(swap.from) || (newestTick ?? Number.NEGATIVE_INFINITY) < swap.switchTick) return {};
    this.active = swap.to;
    this.swap = undefined;
    swap.from.dispose?.();
    const queued = this.queued;
    this.queued = undefined;
    return { finished: swap, ...(queued ? { next: this.schedule(queued.slot, queued.warmupTicks, newestTick) } : {}) };
  }

  /** Frees every version held (at shutdown). */
  dispose(): void {
    const held = new Set([this.active, this.swap?.from, this.swap?.to, this.queued?.slot]);
    for (const slot of held) slot?.dispose?.();
  }
}
