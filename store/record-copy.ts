/**
 * The readable copies in InfluxDB of the records commands write to compacted
 * topics (silences, operator feedback). The topic stays the truth that the
 * detectors follow; a copy is one point per record with the same tags for
 * every kind (network, node, modality, and the record's key), so the
 * dashboards filter them alike, and a changed record rewrites its own point
 * (same series and time) instead of adding one.
 */
import type { IPoint } from 'influx';
import type { Config } from '../common/config.ts';
import { redactUrl } from '../common/log.ts';
import { InfluxSink } from './influx-sink.ts';

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

/** The named properties of `record` as a copy's fields, each under its snake_case name (`markedAt` → `marked_at`). */
export function copyFields<T extends object>(
  record: T,
  names: readonly (keyof T & string)[],
): NonNullable<IPoint['fields']> {
  return Object.fromEntries(
    names.map((name) => [name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), record[name]]),
  );
}

/** A row of `SELECT *` on a copy's measurement: tags and fields are its columns, time in ms. */
export type CopyRow = Record<string, unknown>;

/** A text column of a copy's row, `fallback` where the point has none. */
export function columnText(row: CopyRow, column: string, fallback = ''): string {
  return String(row[column] ?? fallback);
}

/** The sink a command copies its records with: the configured InfluxDB, one retry (the command is waited on). */
export function recordCopySink(influx: Config['influx']): InfluxSink {
  return new InfluxSink({ url: influx.url, database: influx.database, auth: influx, retries: 1 });
}

/**
 * Writes a record's copy. A failure is not fatal (the topic is the truth):
 * it comes back as the error and the warning to show, undefined on success.
 */
export async function writeRecordCopy(
  sink: InfluxSink,
  point: IPoint,
  influxUrl: string,
): Promise<{ error: Error; warning: string } | undefined> {
  try {
    await sink.writePoints([point]);
    return undefined;
  } catch (caught) {
    const error = caught as Error;
    const warning = `not copied to InfluxDB at ${redactUrl(influxUrl)} (${error.message}); the dashboards will not show it, the detectors will still apply it`;
    return { error, warning };
  }
}
