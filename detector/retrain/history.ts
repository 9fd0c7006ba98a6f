/**
 * The training history of a retraining: the network's stored node-ticks over
 * the period, read from InfluxDB page by page, with the alerted, silenced and
 * confirmed episodes left out (mask.ts), aligned on the same tick grid as
 * `train --history` (sources/history.ts).
 */
import { UserError } from '../../common/errors.ts';
import { alignHistory, describeHistoryFill, type HistoryDataset } from '../../sources/history.ts';
import { markedEpisodes, readNodeTicks, storedNodes, type InfluxRows } from '../../store/influx-history.ts';
import type { StoredNodeTick } from '../../store/influx-history.ts';
import { cleanReadings, type MaskCounts } from './mask.ts';

export interface StoredHistoryOptions {
  network: string;
  /** Period [from, until), UTC ms. */
  from: number;
  until: number;
  tickMs: number;
  modalities: readonly string[];
  pageRows: number;
  marginTicks: number;
  maxGapTicks: number;
  onProgress: (message: string) => void;
}

export interface StoredHistory {
  dataset: HistoryDataset;
  counts: MaskCounts;
  /** InfluxDB queries of node-ticks made (pages). */
  pages: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Reads every node-tick of the period, page by page. */
async function readPeriod(
  rows: InfluxRows,
  options: StoredHistoryOptions,
): Promise<{ stored: StoredNodeTick[]; pages: number }> {
  const nodes = await storedNodes(rows, options.network);
  if (nodes.length === 0)
    throw new UserError(
      'RETRAIN_NO_DATA',
      `InfluxDB holds no anomaly points of network ${options.network}`,
      'check --network (config network) and influx.database; the detector writes the points as it scores',
    );
  const stored: StoredNodeTick[] = [];
  let pages = 0;
  for await (const page of readNodeTicks(rows, { ...options, nodes: nodes.length })) {
    pages++;
    for (const tick of page) stored.push(tick);
    if (pages % 20 === 0) options.onProgress(`read ${stored.length} node-ticks in ${pages} pages`);
  }
  return { stored, pages };
}

export async function loadStoredHistory(rows: InfluxRows, options: StoredHistoryOptions): Promise<StoredHistory> {
  const { network, from, until } = options;
  options.onProgress(
    `reading network ${network} from InfluxDB, ${iso(from)} .. ${iso(until)}, pages of at most ${options.pageRows} node-ticks`,
  );
  const { stored, pages } = await readPeriod(rows, options);
  if (stored.length === 0)
    throw new UserError(
      'RETRAIN_NO_DATA',
      `no readings of network ${network} between ${iso(from)} and ${iso(until)}`,
      'give a longer --since or another --until; `wsn-watch model list` shows what earlier versions learnt from',
    );
  const marks = await markedEpisodes(rows, network, { from, until });
  const { readings, counts } = cleanReadings(stored, marks, options);
  options.onProgress(
    `${counts.nodeTicks} node-ticks in ${pages} page${pages === 1 ? '' : 's'}; left out ${counts.nodeTicks - counts.kept} (alerted ${counts.alerted}, silenced ${counts.silenced}, confirmed faults ${counts.confirmed}; ${options.marginTicks} ticks of margin); kept ${counts.falseAlarmsKept} of alerts marked false alarms as clean data`,
  );
  if (readings.length === 0)
    throw new UserError(
      'RETRAIN_NO_DATA',
      `every node-tick of network ${network} in the period was left out (alerted, silenced or a confirmed fault)`,
      'give a longer period (--since), or a smaller --margin-ticks',
    );
  const dataset = alignHistory(readings, {
    tickMs: options.tickMs,
    modalities: options.modalities,
    maxGapTicks: options.maxGapTicks,
  });
  for (const line of describeHistoryFill(dataset.summary)) options.onProgress(`history: ${line}`);
  return { dataset, counts, pages };
}
