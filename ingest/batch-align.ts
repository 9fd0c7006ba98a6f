import type { IncomingBatch, OutgoingMessage } from '../common/transport.ts';
import type { Frame, Reading } from '../common/types.ts';
import type { AddResult } from './align.ts';
import { decodeMessage, type DecodeOptions } from './decode.ts';
import { dlqMessage } from './dlq.ts';
import type { Rejection } from './rejection.ts';

/** What one batch gave: DLQ messages, frames, and counts for the metrics. */
export interface AlignedBatch {
  dlq: OutgoingMessage[];
  frames: Frame[];
  rejectedCodes: Rejection['code'][];
  accepted: number;
  /** Below the offset the state has already seen (delivered again after a restart). */
  skipped: number;
  otherNetwork: number;
}

export interface BatchAlignContext {
  decodeOptions: DecodeOptions;
  allowedLatenessMs: number;
  /** Messages below this offset are already in the state and are skipped. */
  seenUpTo: bigint;
  /**
   * Gives one decoded reading to its aligner; a rejection when the reading
   * cannot be aligned here (scale-out: its cluster belongs to another partition).
   */
  add(reading: Reading): AddResult | Rejection;
}

/** A point's problem: late for an emitted tick, or rejected by `add`. */
function pointProblem(reading: Reading, result: AddResult | Rejection, allowedLatenessMs: number): Rejection | null {
  if ('code' in result) return result;
  if (result.status !== 'late') return null;
  return {
    code: 'late',
    message: `reading of node ${reading.node} at ${new Date(reading.ts).toISOString()} is for tick ${new Date(result.tick).toISOString()}, already emitted (ingest is at tick ${new Date(result.nextTick).toISOString()}; allowed lateness ${allowedLatenessMs} ms)`,
  };
}

/**
 * Decodes and aligns one batch. A message is accepted whole or rejected
 * whole, except that the points of a multi-point message that are late (or
 * rejected by `add`) go to the DLQ with their message while the others count.
 */
export function alignBatch(batch: IncomingBatch, context: BatchAlignContext): AlignedBatch {
  const out: AlignedBatch = { dlq: [], frames: [], rejectedCodes: [], accepted: 0, skipped: 0, otherNetwork: 0 };
  // A partition's batch comes in offset order: once its first message is past what the state has seen, all are
  // (one BigInt per batch instead of one per message).
  const first = batch.messages[0];
  const allUnseen = first === undefined || BigInt(first.offset) >= context.seenUpTo;
  for (const message of batch.messages) {
    if (!allUnseen && BigInt(message.offset) < context.seenUpTo) {
      out.skipped++;
      continue;
    }
    const decoded = decodeMessage(message.value, context.decodeOptions);
    if (!decoded.ok && decoded.rejection.code === 'unknown_network') {
      // Several networks may share wsn.readings, each with its own ingest:
      // another network's reading is not an error here, so it is counted and passed over.
      out.otherNetwork++;
      continue;
    }
    if (!decoded.ok) {
      out.dlq.push(dlqMessage(message, decoded.rejection));
      out.rejectedCodes.push(decoded.rejection.code);
      continue;
    }
    const problems: Rejection[] = [];
    let acceptedHere = 0;
    for (const [i, reading] of decoded.value.entries()) {
      const result = context.add(reading);
      if (!('code' in result)) out.frames.push(...result.frames);
      const problem = pointProblem(reading, result, context.allowedLatenessMs);
      if (problem === null) acceptedHere++;
      else
        problems.push({
          code: problem.code,
          message: `${decoded.value.length > 1 ? `point ${i + 1}: ` : ''}${problem.message}`,
        });
    }
    out.accepted += acceptedHere;
    if (problems.length > 0) {
      const others = acceptedHere > 0 ? `; the other ${acceptedHere} point(s) of this message were accepted` : '';
      const detail = problems.map((p) => p.message).join('; ') + others;
      out.dlq.push(dlqMessage(message, { code: problems[0].code, message: detail }));
      out.rejectedCodes.push(problems[0].code);
    }
  }
  return out;
}
