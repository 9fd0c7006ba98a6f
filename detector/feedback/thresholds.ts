import { raisedModality, type Feedback } from '../../common/feedback.ts';
import type { Modality, NodeId } from '../../common/types.ts';

/** config.feedback: how a false alarm raises its node's threshold. */
export interface RaiseSettings {
  /** The raise is the false alarm's peak probability plus this. */
  margin: number;
  /** No raise goes above this. */
  maxThreshold: number;
  /** A raise ends this long after its mark, ms. */
  expireAfterMs: number;
}

/** One raise in force: the node's threshold (for one modality's alerts, or all of them) and until when. */
export interface ThresholdRaise {
  network: string;
  node: NodeId;
  /** Absent: every alert of the node. */
  modality?: Modality;
  threshold: number;
  /** The false alarm that set it. */
  alertId: string;
  markedAt: number;
  until: number;
}

/**
 * Per-node thresholds from the operators' feedback. A false alarm on an
 * anomaly alert raises its node's threshold to a bit above the alert's peak
 * probability (peak + margin, at most maxThreshold), for the alert's modality
 * when it names one, until expireAfterMs after the mark; a repeat of the same
 * harmless pattern then stays under it, a clearly stronger fault still
 * crosses it. A true mark on the node, later than a false alarm, ends that
 * false alarm's raise. A silent alert's mark raises nothing (a node that
 * stops reporting has no probability to compare).
 */
export function thresholdRaises(records: readonly Feedback[], settings: RaiseSettings, now: number): ThresholdRaise[] {
  const nodeKey = (r: Feedback): string => `${r.network}\u0000${r.node}`;
  const confirmedAt = new Map<string, number>();
  for (const record of records)
    if (record.verdict === 'true')
      confirmedAt.set(nodeKey(record), Math.max(confirmedAt.get(nodeKey(record)) ?? -Infinity, record.markedAt));
  const raises = new Map<string, ThresholdRaise>();
  for (const record of records) {
    if (record.verdict !== 'false' || record.kind !== 'anomaly') continue;
    const until = record.markedAt + settings.expireAfterMs;
    if (until <= now || (confirmedAt.get(nodeKey(record)) ?? -Infinity) >= record.markedAt) continue;
    const modality = raisedModality(record);
    const threshold = Math.min(settings.maxThreshold, record.probability + settings.margin);
    const key = `${nodeKey(record)}\u0000${modality ?? ''}`;
    const known = raises.get(key);
    if (known && known.threshold >= threshold) continue;
    raises.set(key, {
      network: record.network,
      node: record.node,
      ...(modality ? { modality } : {}),
      threshold,
      alertId: record.alertId,
      markedAt: record.markedAt,
      until,
    });
  }
  return [...raises.values()].sort(
    (a, b) => a.network.localeCompare(b.network) || a.node.localeCompare(b.node) || a.threshold - b.threshold,
  );
}

/**
 * The raises as a lookup for the alert tracker: the threshold for a node's
 * alert blamed on `modality`, never below the base threshold.
 */
export class NodeThresholds {
  private byNode = new Map<string, ThresholdRaise[]>();

  constructor(raises: readonly ThresholdRaise[] = []) {
    this.set(raises);
  }

  set(raises: readonly ThresholdRaise[]): void {
    const byNode = new Map<string, ThresholdRaise[]>();
    for (const raise of raises) {
      const key = `${raise.network}\u0000${raise.node}`;
      byNode.set(key, [...(byNode.get(key) ?? []), raise]);
    }
    this.byNode = byNode;
  }

  /** The threshold for the node's alert blamed on `modality` at `now`: base, or a raise in force above it. */
  thresholdFor(base: number, network: string, node: NodeId, modality: Modality, now: number): number {
    let threshold = base;
    for (const raise of this.byNode.get(`${network}\u0000${node}`) ?? []) {
      if (raise.until <= now) continue;
      if (raise.modality === undefined || raise.modality === modality) threshold = Math.max(threshold, raise.threshold);
    }
    return threshold;
  }
}
