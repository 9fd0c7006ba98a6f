/**
 * Writing and reading maintenance silences for `wsn-watch silence`: the
 * record on the silences topic (what the detectors follow) and its point in
 * InfluxDB (what the dashboards read).
 */
import type { Config } from '../../common/config.ts';
import { SILENCE_PARTITIONS, decodeSilence, encodeSilence, type Silence } from '../../common/silences.ts';
import type { KeyedTable } from '../../common/transport.ts';
import { recordCopySink, writeRecordCopy } from '../../store/record-copy.ts';
import { silencePoint } from '../../store/silences.ts';
import { withTable } from '../open-table.ts';
import { SILENCE_RECORDS } from './book.ts';
import { expireSilence } from './spec.ts';

/** Opens the silences table, runs `use`, and closes everything whatever happens. */
function withSilences<T>(config: Config, use: (table: KeyedTable) => Promise<T>): Promise<T> {
  const { topic } = config.silences;
  return withTable(
    config,
    { topic, partitions: SILENCE_PARTITIONS, what: `the silences topic ${topic}`, logName: 'silence' },
    use,
  );
}

async function readSilences(table: KeyedTable): Promise<Map<string, Silence>> {
  const out = new Map<string, Silence>();
  for (const [key, value] of await table.readToEnd()) {
    try {
      out.set(key, decodeSilence(value));
    } catch (error) {
      process.stderr.write(`silence: skipping the unreadable record ${key}: ${(error as Error).message}\n`);
    }
  }
  return out;
}

/** Writes the silence's point for the dashboards; a failure is reported, not fatal (the topic is the truth). */
async function copyToInflux(config: Config, silence: Silence): Promise<void> {
  const failed = await writeRecordCopy(recordCopySink(config.influx), silencePoint(silence), config.influx.url);
  if (failed) process.stderr.write(`silence: warning: ${failed.warning}\n`);
}

/** Puts a new silence on the silences topic, then copies it to InfluxDB. */
export async function addSilence(config: Config, silence: Silence): Promise<void> {
  await withSilences(config, (table) => table.put([{ key: silence.id, value: encodeSilence(silence) }]));
  await copyToInflux(config, silence);
}

/** The network's silences in start order: those not yet ended at `now`, or all of them with `all`. */
export async function listSilences(config: Config, all: boolean | undefined, now: number): Promise<Silence[]> {
  return [...(await withSilences(config, readSilences)).values()]
    .filter((s) => s.network === config.network && (all || s.endsAt > now))
    .sort(SILENCE_RECORDS.order);
}

/** Ends the silence `id` at `now` on the silences topic and in InfluxDB; the expired silence. */
export async function expireSilenceNow(config: Config, id: string, now: number): Promise<Silence> {
  const expired = await withSilences(config, async (table) => {
    const silence = expireSilence(await readSilences(table), id, now);
    await table.put([{ key: silence.id, value: encodeSilence(silence) }]);
    return silence;
  });
  await copyToInflux(config, expired);
  return expired;
}
