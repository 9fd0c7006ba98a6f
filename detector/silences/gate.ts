import type { Silence } from '../../common/silences.ts';
import type { Alert, ClusterScore, Modality, NodeId } from '../../common/types.ts';

/** What the gate asks about silences (SilenceBook answers it). */
export interface SilenceLookup {
  coveringAlert(network: string, node: NodeId, modality: Modality, now?: number): Silence | undefined;
  nodeSilenced(network: string, node: NodeId, now?: number): boolean;
}

export interface GateOutcome {
  /** Transitions to route: the tracker's minus the suppressed ones, plus those the silences themselves cause. */
  alerts: Alert[];
  /** Transitions held back because a silence covers them. */
  suppressed: Alert[];
  /** Makes the gate's new state final; call once the batch's alerts are delivered (not when the batch is retried). */
  commit(): void;
}

/**
 * Maintenance silences between the alert tracker and the alert routes. The
 * tracker runs unchanged (scoring and its state machine do not know about
 * silences); the gate decides what the receivers hear:
 *  - a transition about a node covered by an active silence is held back;
 *  - an alert already firing when a silence starts is resolved towards the
 *    receivers with `reason: 'silenced'` (and held while the silence lasts);
 *  - when the silence ends (or is expired early) and the tracker still has
 *    the alert firing, it fires then; if the fault cleared meanwhile, the
 *    receivers hear nothing.
 * The state (which firing alerts are held) is per replica and changes only
 * on `commit()`, so a batch that fails and is redelivered is gated again the
 * same way.
 */
export class SilenceGate {
  private held = new Map<string, Alert>();

  constructor(private readonly silences: SilenceLookup) {}

  /**
   * Gates one batch: `transitions` are the tracker's, `firing` every alert the
   * tracker holds firing after the batch, `tick` the batch's newest tick (the
   * event time a silence-caused resolution carries), `now` the wall clock the
   * silences are judged at.
   */
  apply(transitions: readonly Alert[], firing: readonly Alert[], now: number, tick: number): GateOutcome {
    const held = new Map(this.held);
    const alerts: Alert[] = [];
    const suppressed: Alert[] = [];
    const covered = (alert: Alert): boolean =>
      this.silences.coveringAlert(alert.network, alert.node, alert.modality, now) !== undefined;
    for (const alert of transitions) {
      if (alert.status === 'firing' && covered(alert)) {
        held.set(alert.id, alert);
        suppressed.push(alert);
      } else if (alert.status === 'resolved' && held.has(alert.id)) {
        // The receivers never heard it fire (or heard it resolve when the silence began).
        held.delete(alert.id);
        suppressed.push(alert);
      } else {
        alerts.push(alert);
      }
    }
    const firingById = new Map(firing.map((alert) => [alert.id, alert]));
    for (const alert of firing) {
      if (held.has(alert.id) || !covered(alert)) continue;
      alerts.push({ ...alert, status: 'resolved', endsAt: Math.max(alert.startsAt, tick), reason: 'silenced' });
      held.set(alert.id, alert);
    }
    for (const id of [...held.keys()]) {
      const current = firingById.get(id);
      if (!current) {
        held.delete(id); // its cluster moved to another replica or left
      } else if (!covered(current)) {
        alerts.push({ ...current });
        held.delete(id);
      }
    }
    return { alerts, suppressed, commit: () => (this.held = held) };
  }

  /** The firing alerts the receivers may hear about (for periodic re-sends): neither held nor covered now. */
  visible(firing: readonly Alert[], now: number): Alert[] {
    return firing.filter(
      (alert) =>
        !this.held.has(alert.id) &&
        this.silences.coveringAlert(alert.network, alert.node, alert.modality, now) === undefined,
    );
  }

  /** Alerts firing in the tracker but held back by a silence. */
  heldAlerts(): Alert[] {
    return [...this.held.values()].map((alert) => ({ ...alert }));
  }

  /** Marks every node score with whether a silence covered the node when it was scored. */
  markScores(scores: readonly ClusterScore[], now: number): void {
    for (const score of scores)
      for (const node of score.nodes) node.silenced = this.silences.nodeSilenced(score.network, node.node, now);
  }
}
