/** Which cluster and tick a frame is of: all a verdict needs, read from a message's key and header. */
export interface FrameKey {
  cluster: string;
  tick: number;
}

/** How long a hand-over waiting for the rest of a tick waits before it looks again, ms. */
export const GATHER_STEP_MS = 250;

/** What a hand-over does about the rest of its newest tick: wait `waitMs` more (0: go on), `missing` clusters short. */
export interface GatherVerdict {
  waitMs: number;
  missing: number;
}

/**
 * At a tick's close ingest publishes the frame of every cluster within a second or so (at 100,000 nodes), and the
 * consumer hands the first of them over at once. The frames that come meanwhile wait for that whole hand-over (its
 * scoring, delivery and checkpoints) and so on: a tick's last frames waited for several hand-overs. So a hand-over
 * whose newest tick lacks the frame of a cluster this replica scored at the tick before waits for it, at most
 * `gatherMs` from the first hand-over of that tick; a tick all of whose frames came goes on at once, and so does one
 * whose last wait brought none of its missing frames (they are not coming soon).
 */
export class TickGather {
  private tick: number | undefined;
  private since = 0;
  /** Clusters of `tick` whose frame was present at its last verdict. */
  private present = 0;

  constructor(
    private readonly gatherMs: number,
    private readonly tickMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `scoredAt(tick)`: the clusters whose last scored tick is `tick`. */
  verdict(frames: readonly FrameKey[], scoredAt: (tick: number) => Iterable<string>): GatherVerdict {
    if (this.gatherMs <= 0 || frames.length === 0) return { waitMs: 0, missing: 0 };
    let newest = Number.NEGATIVE_INFINITY;
    for (const frame of frames) if (frame.tick > newest) newest = frame.tick;
    const present = new Set<string>();
    for (const frame of frames) if (frame.tick === newest) present.add(frame.cluster);
    let missing = 0;
    for (const cluster of scoredAt(newest - this.tickMs)) if (!present.has(cluster)) missing++;
    if (missing === 0) return { waitMs: 0, missing };
    const now = this.now();
    if (this.tick !== newest) {
      this.tick = newest;
      this.since = now;
    } else if (present.size <= this.present) {
      return { waitMs: 0, missing };
    }
    this.present = present.size;
    const left = this.since + this.gatherMs - now;
    return { waitMs: left > 0 ? Math.min(left, GATHER_STEP_MS) : 0, missing };
  }
}
