/**
 * Maintenance silences in InfluxDB, for Grafana and the built-in dashboard.
 * The silences topic stays the truth (detectors follow it); these points are
 * its readable copy: `silence`, tags network/node/modality/id, fields
 * starts_at, ends_at (UTC ms), reason, author, expired; time = starts_at.
 * Expiring a silence rewrites the same point (same series and time) with the
 * new end, so the newest state is the only one.
 */
import type { IPoint } from 'influx';
import type { Silence } from '../common/silences.ts';

export const SILENCE_MEASUREMENT = 'silence';

/** The modality tag of a node-wide silence. */
export const ALL_MODALITIES = '*';

export function silencePoint(silence: Silence): IPoint {
  return {
    measurement: SILENCE_MEASUREMENT,
    tags: {
      network: silence.network,
      node: silence.node,
      modality: silence.modality ?? ALL_MODALITIES,
      id: silence.id,
    },
    fields: {
      starts_at: silence.startsAt,
      ends_at: silence.endsAt,
      reason: silence.reason,
      author: silence.author,
      expired: silence.expiredAt !== undefined,
    },
    timestamp: silence.startsAt,
  };
}

/** A silence read back from its point (what the dashboards show). */
export function silenceFromRow(tags: Record<string, string>, row: Record<string, unknown>): Silence {
  const silence: Silence = {
    id: tags.id ?? '',
    network: tags.network ?? '',
    node: tags.node ?? '',
    startsAt: Number(row.starts_at),
    endsAt: Number(row.ends_at),
    reason: String(row.reason ?? ''),
    author: String(row.author ?? ''),
    createdAt: Number(row.starts_at),
  };
  if (tags.modality && tags.modality !== ALL_MODALITIES) silence.modality = tags.modality;
  return silence;
}
