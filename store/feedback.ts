/**
 * Operator feedback in InfluxDB, for the dashboards and for a later
 * retraining to leave out (false alarms) or keep (confirmed faults) the
 * episodes. The feedback topic stays the truth (detectors follow it); these
 * points are its readable copy: `feedback`, tags network/node/modality/alert
 * (the alert id), fields verdict (`false` or `true`), cluster, kind,
 * probability, ends_at (UTC ms, 0 while firing when marked), marked_at, note,
 * author; time = the alert's start, so a new mark of the same episode
 * rewrites its point (the verdict is a field, not a tag, for that).
 */
import type { IPoint } from 'influx';
import type { Feedback, FeedbackVerdict } from '../common/feedback.ts';

export const FEEDBACK_MEASUREMENT = 'feedback';

export function feedbackPoint(feedback: Feedback): IPoint {
  return {
    measurement: FEEDBACK_MEASUREMENT,
    tags: {
      network: feedback.network,
      node: feedback.node,
      modality: feedback.modality,
      alert: feedback.alertId,
    },
    fields: {
      verdict: feedback.verdict,
      cluster: feedback.cluster,
      kind: feedback.kind,
      probability: feedback.probability,
      ends_at: feedback.alertEndsAt ?? 0,
      marked_at: feedback.markedAt,
      note: feedback.note,
      author: feedback.author,
    },
    timestamp: feedback.alertStartsAt,
  };
}

/** A feedback record read back from its point (what the dashboards show). */
export function feedbackFromRow(tags: Record<string, string>, row: Record<string, unknown>, time: number): Feedback {
  const endsAt = Number(row.ends_at);
  return {
    alertId: tags.alert ?? '',
    network: tags.network ?? '',
    cluster: String(row.cluster ?? ''),
    node: tags.node ?? '',
    kind: String(row.kind ?? 'anomaly'),
    modality: tags.modality ?? 'none',
    verdict: (row.verdict === 'true' ? 'true' : 'false') satisfies FeedbackVerdict,
    probability: Number(row.probability),
    alertStartsAt: time,
    ...(endsAt > 0 ? { alertEndsAt: endsAt } : {}),
    note: String(row.note ?? ''),
    author: String(row.author ?? ''),
    markedAt: Number(row.marked_at),
  };
}
