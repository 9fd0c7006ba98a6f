/**
 * Operator feedback on alerts: "this alert was a false alarm" or "this alert
 * was right". Stored as JSON on a compacted topic (config feedback.topic),
 * key = alert id, so the newest verdict on a node's alert is the one kept and
 * every detector replica applies the same ones. The record carries what the
 * detector needs to act on it without the alert at hand: node, modality and
 * the alert's peak probability.
 */
import { z } from 'zod';
import { jsonRecordCodec } from './json-record.ts';
import type { Modality, NodeId } from './types.ts';

/** Partitions of the feedback topic when wsn-watch creates it (small records, one per alert id). */
export const FEEDBACK_PARTITIONS = 1;

export type FeedbackVerdict = 'false' | 'true';

export interface Feedback {
  /** The alert's id (network/cluster/node): the record's key. */
  alertId: string;
  network: string;
  cluster: string;
  node: NodeId;
  /** The alert's kind: `anomaly` or `silent`. */
  kind: string;
  /** The modality the alert blamed; `none` when it named none (a silent node). */
  modality: Modality;
  /** `false`: a false alarm; `true`: a real problem. */
  verdict: FeedbackVerdict;
  /** The alert's peak probability (what a false alarm's threshold raise is set above). */
  probability: number;
  /** Event time the alert started, UTC ms (the episode, for a retraining to leave out or keep). */
  alertStartsAt: number;
  /** Event time it resolved, UTC ms, when it had resolved when marked. */
  alertEndsAt?: number;
  note: string;
  author: string;
  /** Wall clock of the mark, UTC ms. */
  markedAt: number;
}

const FeedbackSchema = z.object({
  alertId: z.string().min(1),
  network: z.string().min(1),
  cluster: z.string().min(1),
  node: z.string().min(1),
  kind: z.string().min(1),
  modality: z.string().min(1),
  verdict: z.enum(['false', 'true']),
  probability: z.number().min(0).max(1),
  alertStartsAt: z.number().finite(),
  alertEndsAt: z.number().finite().optional(),
  note: z.string(),
  author: z.string(),
  markedAt: z.number().finite(),
});

export class FeedbackFormatError extends Error {}

/** Feedback records as the feedback topic holds them: `decode` throws FeedbackFormatError saying what is wrong. */
export const FEEDBACK_CODEC = jsonRecordCodec<Feedback>(FeedbackSchema, FeedbackFormatError);
export const { encode: encodeFeedback, decode: decodeFeedback } = FEEDBACK_CODEC;

/** The modality a feedback record's threshold raise is limited to; undefined = the whole node. */
export function raisedModality(feedback: Pick<Feedback, 'modality'>): Modality | undefined {
  return feedback.modality === 'none' ? undefined : feedback.modality;
}
