/**
 * The readable copies in InfluxDB of the records commands write to compacted
 * topics (silences, operator feedback). The topic stays the truth that the
 * detectors follow; a copy is one point per record with the same tags for
 * every kind (network, node, modality, and the record's key), so the
 * dashboards filter them alike, and a changed record rewrites its own point
 * (same series and time) instead of adding one.
 */
import type { IPoint } from 'influx';

/** What a record is about: the tags every copy carries. */
export interface CopyPlace {
  network: string;
  node: string;
  modality: string;
}

/** The point copying one record: tags `place` plus its key tag, time `timestamp`. */
export function recordCopyPoint(
  measurement: string,
  place: CopyPlace & { key: [tag: string, value: string] },
  fields: NonNullable<IPoint['fields']>,
  timestamp: number,
): IPoint {
  const { network, node, modality, key } = place;
  return { measurement, tags: { network, node, modality, [key[0]]: key[1] }, fields, timestamp };
}

/** A row of `SELECT *` on a copy's measurement: tags and fields are its columns, time in ms. */
export type CopyRow = Record<string, unknown>;

/** A text column of a copy's row, `fallback` where the point has none. */
export function columnText(row: CopyRow, column: string, fallback = ''): string {
  return String(row[column] ?? fallback);
}
