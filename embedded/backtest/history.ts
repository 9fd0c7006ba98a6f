/**
 * A history file (the CSV / JSON lines `wsn-watch train --history` takes) as
 * readings in event-time order, ready for the live path. Empty fields are
 * left out of a reading (the aligner carries the last value forward); a row
 * with no value at all is counted and skipped; a malformed line stops the run
 * with its line number (the loaders' UserError).
 */
import path from 'node:path';
import { UserError } from '../../common/errors.ts';
import type { Reading } from '../../common/types.ts';
import { readCsvHistory, readJsonlHistory, type HistoryReading } from '../../sources/history.ts';

export interface HistoryReadings {
  readings: Reading[];
  /** Rows without any value (every modality field empty). */
  emptyRows: number;
  nodes: string[];
  modalities: string[];
}

export async function readHistoryReadings(file: string, network: string, format?: 'csv' | 'jsonl'): Promise<HistoryReadings> {
  const kind = format ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');
  let rows: HistoryReading[];
  try {
    rows = kind === 'csv' ? await readCsvHistory(file) : await readJsonlHistory(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new UserError('HISTORY_MISSING', `cannot read ${file}: ${(error as Error).message}`, 'Check the path of --history.');
    }
    throw error;
  }
  let emptyRows = 0;
  const readings: Reading[] = [];
  for (const row of rows) {
    if (Object.keys(row.values).length === 0) {
      emptyRows++;
      continue;
    }
    readings.push({ network, node: row.node, ts: Math.round(row.ts), values: row.values });
  }
  if (readings.length === 0) throw new UserError('HISTORY_EMPTY', `${path.basename(file)} holds no reading with a value`, 'Pass a file with a header (node, ts, one column per modality) and at least a few readings.');
  // Stable: readings of the same instant keep the file's order.
  readings.sort((a, b) => a.ts - b.ts);
  const nodes = [...new Set(readings.map((r) => r.node))];
  const modalities = [...new Set(readings.flatMap((r) => Object.keys(r.values)))];
  return { readings, emptyRows, nodes, modalities };
}
