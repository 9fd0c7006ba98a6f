/**
 * Maintenance silences: "node N (or only its modality M) is under maintenance
 * from A to B, don't alert about it". Stored as JSON, one value per silence id,
 * on a compacted topic (config silences.topic) so every detector replica sees
 * the same ones. Times are wall-clock UTC ms, like Alertmanager's silences: a
 * silence covers what the detector processes while it is active.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { jsonRecordCodec } from './json-record.ts';
import type { Modality, NodeId } from './types.ts';
import { HOUR_MS, DAY_MS } from './constants.ts';

/** Partitions of the silences topic when wsn-watch creates it (a handful of small records). */
export const SILENCE_PARTITIONS = 1;

export interface Silence {
  id: string;
  network: string;
  node: NodeId;
  /** Only this modality's alerts are silenced; absent = every alert of the node. */
  modality?: Modality;
  /** Wall clock, UTC ms. */
  startsAt: number;
  /** Wall clock, UTC ms; `silence expire` sets it to the moment of expiry. */
  endsAt: number;
  reason: string;
  author: string;
  createdAt: number;
  /** When it was expired early with `silence expire`, UTC ms. */
  expiredAt?: number;
}

const SilenceSchema = z
  .object({
    id: z.string().min(1),
    network: z.string().min(1),
    node: z.string().min(1),
    modality: z.string().min(1).optional(),
    startsAt: z.number().finite(),
    endsAt: z.number().finite(),
    reason: z.string(),
    author: z.string(),
    createdAt: z.number().finite(),
    expiredAt: z.number().finite().optional(),
  })
  .refine((s) => s.endsAt >= s.startsAt, { message: 'endsAt is before startsAt' });

export class SilenceFormatError extends Error {}

/** Silences as the silences topic holds them: `decode` throws SilenceFormatError saying what is wrong. */
export const SILENCE_CODEC = jsonRecordCodec<Silence>(SilenceSchema, SilenceFormatError);
export const { encode: encodeSilence, decode: decodeSilence } = SILENCE_CODEC;

export function newSilenceId(): string {
  return `sil-${randomBytes(4).toString('hex')}`;
}

export function isActive(silence: Silence, now: number): boolean {
  return silence.startsAt <= now && now < silence.endsAt;
}

/**
 * Whether the silence covers an alert about `node` whose responsible modality
 * is `modality`: same network and node, and either a node-wide silence or one
 * of that modality (a node-wide silence also covers the `silent` alert).
 */
export function coversAlert(silence: Silence, network: string, node: NodeId, modality: Modality): boolean {
  return (
    silence.network === network &&
    silence.node === node &&
    (silence.modality === undefined || silence.modality === modality)
  );
}

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: HOUR_MS, d: DAY_MS, w: 7 * DAY_MS };

/**
 * A duration such as 30m, 2h, 1d or 1h30m, in ms. Throws an Error saying what
 * is accepted; zero and negative durations are refused.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const pattern = /(\d+(?:\.\d+)?)([smhdw])/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(trimmed); match; match = pattern.exec(trimmed)) {
    total += Number(match[1]) * DURATION_UNITS[match[2]];
    consumed = pattern.lastIndex;
  }
  if (trimmed === '' || consumed !== trimmed.length) {
    throw new Error(`"${text}" is not a duration: use a number and a unit s, m, h, d or w, e.g. 30m, 2h, 1d, 1h30m`);
  }
  if (!(total > 0)) throw new Error(`"${text}" is not a positive duration`);
  return Math.round(total);
}

/** An ISO 8601 date-time with an explicit time, in UTC ms. Throws an Error naming the text. */
export function parseInstant(text: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text.trim()) ? Date.parse(text.trim()) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new Error(`"${text}" is not an ISO date-time, e.g. 2026-03-01T14:00:00Z`);
  }
  return ms;
}

/** A duration in the largest units that fit, e.g. 1h30m, 2d, 45s. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.round(ms / 1000) * 1000;
  let out = '';
  for (const [unit, size] of [
    ['d', DAY_MS],
    ['h', HOUR_MS],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out || '0s';
}
