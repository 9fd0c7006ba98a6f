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
import { columnText, copyFields, recordCopyPoint, type CopyRow } from './record-copy.ts';

export const SILENCE_MEASUREMENT = 'silence';

/** The modality tag of a node-wide silence. */
export const ALL_MODALITIES = '*';

export function silencePoint(silence: Silence): IPoint {
  const { network, node, modality = ALL_MODALITIES, id } = silence;
  return recordCopyPoint(
    SILENCE_MEASUREMENT,
    { network, node, modality, key: ['id', id] },
    { ...copyFields(silence, ['startsAt', 'endsAt', 'reason', 'author']), expired: silence.expiredAt !== undefined },
    silence.startsAt,
  );
}

/** A silence read back from a row of its points (what the dashboards show). */
export function silenceFromRow(row: CopyRow): Silence {
  const silence: Silence = {
    id: columnText(row, 'id'),
    network: columnText(row, 'network'),
    node: columnText(row, 'node'),
    startsAt: Number(row.starts_at),
    endsAt: Number(row.ends_at),
    reason: columnText(row, 'reason'),
    author: columnText(row, 'author'),
    createdAt: Number(row.starts_at),
  };
  const modality = columnText(row, 'modality');
  if (modality && modality !== ALL_MODALITIES) silence.modality = modality;
  return silence;
}
