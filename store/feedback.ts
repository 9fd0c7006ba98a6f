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
import { columnText, copyFields, recordCopyPoint, type CopyRow } from './record-copy.ts';

export const FEEDBACK_MEASUREMENT = 'feedback';

export function feedbackPoint(feedback: Feedback): IPoint {
  const { network, node, modality, alertId } = feedback;
  return recordCopyPoint(
    FEEDBACK_MEASUREMENT,
    { network, node, modality, key: ['alert', alertId] },
    {
      ...copyFields(feedback, ['verdict', 'cluster', 'kind', 'probability', 'markedAt', 'note', 'author']),
      ends_at: feedback.alertEndsAt ?? 0,
    },
    feedback.alertStartsAt,
  );
}

/** A feedback record read back from a row of its points (what the dashboards show). */
export function feedbackFromRow(row: CopyRow): Feedback {
  const endsAt = Number(row.ends_at);
  return {
    alertId: columnText(row, 'alert'),
    network: columnText(row, 'network'),
    cluster: columnText(row, 'cluster'),
    node: columnText(row, 'node'),
    kind: columnText(row, 'kind', 'anomaly'),
    modality: columnText(row, 'modality', 'none'),
    verdict: (row.verdict === 'true' ? 'true' : 'false') satisfies FeedbackVerdict,
    probability: Number(row.probability),
    alertStartsAt: Number(row.time),
    ...(endsAt > 0 ? { alertEndsAt: endsAt } : {}),
    note: columnText(row, 'note'),
    author: columnText(row, 'author'),
    markedAt: Number(row.marked_at),
  };
}
