/**
 * What `wsn-watch feedback mark|list` and the dashboard's feedback endpoint
 * decide, free of Kafka, HTTP and the command line: a feedback record from an
 * alert and the operator's verdict, and the listing.
 */
import type { Feedback, FeedbackVerdict } from '../../common/feedback.ts';
import { formatColumns } from '../../common/columns.ts';
import { UserError } from '../../common/errors.ts';
import type { Alert } from '../../common/types.ts';

export interface FeedbackInput {
  /** The alert id, network/cluster/node. */
  alert?: string;
  verdict?: string;
  note?: string;
  /** Author; default the OS user (CLI) or `dashboard`. */
  by?: string;
}

const ALERT_ID = /^[^/\s]+\/[^/\s]+\/[^/\s]+$/;
const MAX_NOTE = 500;

/** The alert id of a mark, checked: a UserError (FEEDBACK_INVALID) saying what is expected otherwise. */
export function checkAlertId(id: string | undefined): string {
  const trimmed = id?.trim() ?? '';
  if (!ALERT_ID.test(trimmed))
    throw new UserError(
      'FEEDBACK_INVALID',
      `--alert needs an alert id network/cluster/node (as \`feedback list\`, Alertmanager and the dashboard show it), got "${id ?? ''}"`,
    );
  return trimmed;
}

export function checkVerdict(verdict: string | undefined): FeedbackVerdict {
  if (verdict === 'false' || verdict === 'true') return verdict;
  throw new UserError(
    'FEEDBACK_INVALID',
    verdict === undefined
      ? 'say whether the alert was a false alarm (--false) or right (--true)'
      : `verdict must be "false" (a false alarm) or "true" (a real problem), got "${verdict}"`,
  );
}

/** The record of a verdict on `alert` (its newest known state); a UserError for bad input. */
export function buildFeedback(alert: Alert, input: FeedbackInput, now: number, defaultAuthor: string): Feedback {
  const verdict = checkVerdict(input.verdict);
  const note = input.note?.trim() ?? '';
  if (note.length > MAX_NOTE)
    throw new UserError('FEEDBACK_INVALID', `the note has ${note.length} characters; at most ${MAX_NOTE}`);
  const author = input.by?.trim() || defaultAuthor;
  if (author.length > 100) throw new UserError('FEEDBACK_INVALID', 'the author name has more than 100 characters');
  return {
    alertId: alert.id,
    network: alert.network,
    cluster: alert.cluster,
    node: alert.node,
    kind: alert.kind,
    modality: alert.modality,
    verdict,
    probability: Math.min(1, Math.max(0, alert.probability)),
    alertStartsAt: alert.startsAt,
    ...(alert.endsAt !== undefined ? { alertEndsAt: alert.endsAt } : {}),
    note,
    author,
    markedAt: now,
  };
}

/** What a mark does, in one line (the CLI prints it, the endpoint returns it). */
export function describeFeedback(feedback: Feedback, raise?: { threshold: number; until: number }): string {
  const alert = `alert ${feedback.alertId} (node ${feedback.node}, ${feedback.modality}, peak ${feedback.probability.toFixed(3)}, from ${iso(feedback.alertStartsAt)})`;
  if (feedback.verdict === 'true')
    return `${alert} confirmed: node ${feedback.node}'s raised threshold, if any, is reset`;
  if (!raise) return `${alert} marked a false alarm (a ${feedback.kind} alert: no threshold to raise)`;
  const scope = feedback.modality === 'none' ? 'alerts' : `${feedback.modality} alerts`;
  return `${alert} marked a false alarm: node ${feedback.node}'s ${scope} need p > ${raise.threshold.toFixed(3)} until ${iso(raise.until)}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** One line per record under a header, as `feedback list` prints them (newest mark first). */
export function formatFeedbackList(records: readonly Feedback[]): string {
  const header = ['ALERT', 'VERDICT', 'NODE', 'MODALITY', 'PEAK', 'ALERT STARTED', 'MARKED', 'BY', 'NOTE'];
  const rows = records.map((f) => [
    f.alertId,
    f.verdict === 'false' ? 'false alarm' : 'confirmed',
    f.node,
    f.modality,
    f.probability.toFixed(3),
    iso(f.alertStartsAt),
    iso(f.markedAt),
    f.author,
    f.note,
  ]);
  return formatColumns([header, ...rows]);
}
