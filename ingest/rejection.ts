/**
 * Why a message on `wsn.readings` was not accepted. Every rejected message
 * goes to `wsn.readings.dlq` with its original bytes; the code goes in the
 * `x-wsn-error-code` header and the `reason` label of
 * `wsn_ingest_rejected_total`, the detail in `x-wsn-error`. Exception:
 * `unknown_network` is not sent to the DLQ (several networks may share the
 * topic, each with its own ingest); it is counted in
 * `wsn_ingest_other_network_total`.
 */
export const REJECTION_CODES = [
  'oversized',
  'malformed',
  'invalid',
  'forbidden_key',
  'non_finite',
  'implausible',
  'missing_timestamp',
  'bad_timestamp',
  'future',
  'unknown_network',
  'unknown_node',
  'unknown_modality',
  'late',
  'wrong_partition',
] as const;

export type RejectionCode = (typeof REJECTION_CODES)[number];

export interface Rejection {
  code: RejectionCode;
  /** What was wrong and where (field, line), for a person reading the DLQ. */
  message: string;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

export const reject = (code: RejectionCode, message: string): { ok: false; rejection: Rejection } => ({
  ok: false,
  rejection: { code, message },
});
