/**
 * Loader for the public Intel Berkeley Research Lab (IBRL) readings, in the
 * per-mote layout `readings/<id>.txt`, one reading a line:
 *
 *   date time epoch moteid temperature humidity light voltage
 *
 * and the GLSL paper's alignment: K sample epochs evenly spaced over an epoch
 * range; for each mote and sample epoch, the mote's reading with the nearest
 * epoch (ties go to the earlier reading, as numpy's argmin does).
 */
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../common/errors.ts';
import { lowerBound } from '../common/lower-bound.ts';
import type { Modality, NodeId } from '../common/types.ts';
import type { Series } from './series.ts';
import { parseIbrlLine, type IbrlLineIssue } from './ibrl-reader.ts';

/** The value columns of an IBRL line, in file order. */
export const IBRL_MODALITIES = ['temperature', 'humidity', 'light', 'voltage'] as const;
export type IbrlModality = (typeof IBRL_MODALITIES)[number];

/** What the GLSL paper evaluates on. */
export const PAPER_ALIGNMENT = { firstEpoch: 14285, lastEpoch: 28675, samples: 5000 } as const;
export const PAPER_EXCLUDED_MOTES: readonly NodeId[] = ['18'];
export const PAPER_MODALITIES: readonly IbrlModality[] = ['temperature', 'humidity', 'voltage'];

/** How many skipped lines the load report lists one by one (all are counted). */
const MAX_REPORTED_BAD_LINES = 20;

/** Temperatures outside this band (°C) cannot be real on a lab floor: a failing sensor. */
export const PLAUSIBLE_TEMPERATURE = { min: -10, max: 60 } as const;

/** The parsed readings of one mote, sorted by epoch. */
export interface MoteReadings {
  mote: NodeId;
  file: string;
  /** Epoch per reading, ascending. */
  epochs: Int32Array;
  /** readings × 4 values (temperature, humidity, light, voltage); NaN where a line has no light value. */
  values: Float64Array;
  /** Event time (ms, as written: lab local time read as UTC) of the first and last reading. */
  firstTime: number;
  lastTime: number;
  lines: number;
  missingLight: number;
  implausibleTemperatures: { line: number; epoch: number; value: number }[];
  /** Lines skipped because they could not be parsed, with what was wrong. */
  badLines: IbrlLineIssue[];
}

/**
 * Parses one mote file with the same line parser as the streaming reader
 * (`parseIbrlLine`), so both read the public files alike. One policy for bad
 * lines everywhere: a line that cannot be parsed, or that names another mote,
 * is skipped and reported in `badLines` (file, line, what was wrong); the load
 * report sums them up. Lines with 7 fields lack the light value.
 */
export function parseMoteFile(text: string, file: string, mote: NodeId): MoteReadings {
  const lines = text.split('\n');
  const epochs: number[] = [];
  const values: number[] = [];
  const implausible: MoteReadings['implausibleTemperatures'] = [];
  const badLines: IbrlLineIssue[] = [];
  let missingLight = 0;
  let firstTime = NaN;
  let lastTime = NaN;
  let firstEpoch = Infinity;
  let lastEpoch = -Infinity;
  let sorted = true;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const parsed = parseIbrlLine(lines[i], file, i + 1);
    if ('message' in parsed) {
      badLines.push(parsed);
      continue;
    }
    if (parsed.mote !== mote) {
      badLines.push({ file, line: i + 1, message: `moteid is "${parsed.mote}" but the file is for mote ${mote}` });
      continue;
    }
    const { epoch, values: reading } = parsed;
    const light = reading.light ?? NaN;
    if (reading.light === undefined) missingLight++;
    if (reading.temperature < PLAUSIBLE_TEMPERATURE.min || reading.temperature > PLAUSIBLE_TEMPERATURE.max) {
      implausible.push({ line: i + 1, epoch, value: reading.temperature });
    }
    if (epochs.length > 0 && epoch < epochs[epochs.length - 1]) sorted = false;
    epochs.push(epoch);
    values.push(reading.temperature, reading.humidity, light, reading.voltage);
    if (epoch < firstEpoch) {
      firstEpoch = epoch;
      firstTime = parsed.ts;
    }
    if (epoch > lastEpoch) {
      lastEpoch = epoch;
      lastTime = parsed.ts;
    }
  }
  let epochArray = Int32Array.from(epochs);
  let valueArray = Float64Array.from(values);
  if (!sorted) {
    // A stable sort keeps file order among equal epochs, so "first nearest" stays defined.
    const order = epochs.map((_, i) => i).sort((a, b) => epochs[a] - epochs[b] || a - b);
    epochArray = Int32Array.from(order, (i) => epochs[i]);
    valueArray = new Float64Array(values.length);
    order.forEach((from, to) => valueArray.set(values.slice(from * 4, from * 4 + 4), to * 4));
  }
  return {
    mote,
    file,
    epochs: epochArray,
    values: valueArray,
    firstTime,
    lastTime,
    lines: epochs.length,
    missingLight,
    implausibleTemperatures: implausible,
    badLines,
  };
}

/**
 * The sample epochs of the paper's alignment: `samples` values evenly spaced
 * from first to last, truncated to integers (numpy's int16 cast of linspace).
 */
export function sampleEpochs(firstEpoch: number, lastEpoch: number, samples: number): number[] {
  if (samples < 2) return [Math.trunc(firstEpoch)];
  const step = (lastEpoch - firstEpoch) / (samples - 1);
  return Array.from({ length: samples }, (_, i) =>
    i === samples - 1 ? Math.trunc(lastEpoch) : Math.trunc(firstEpoch + i * step),
  );
}

/**
 * Index of the reading whose epoch is nearest to `target` among the ascending
 * `epochs` (restricted to rows where `valid` is true when given). Ties and
 * duplicates resolve to the earliest such row. -1 when there is none.
 */
export function nearestIndex(epochs: ArrayLike<number>, target: number): number {
  const n = epochs.length;
  if (n === 0) return -1;
  // lo: first row with epoch >= target.
  const lo = lowerBound(epochs, target);
  let best: number;
  if (lo === n) best = n - 1;
  else if (lo === 0) best = 0;
  else best = target - epochs[lo - 1] <= epochs[lo] - target ? lo - 1 : lo;
  while (best > 0 && epochs[best - 1] === epochs[best]) best--;
  return best;
}

export interface IbrlLoadOptions {
  /** Motes left out (default: mote 18, as the paper). */
  exclude?: readonly NodeId[];
  /** Only these motes (default: every file present). */
  motes?: readonly NodeId[];
  /** Modalities in series order (default: temperature, humidity, voltage). */
  modalities?: readonly IbrlModality[];
  firstEpoch?: number;
  lastEpoch?: number;
  samples?: number;
  /**
   * Readings whose temperature is physically impossible: 'drop' (default)
   * aligns from the mote's other readings; 'keep' uses them as they are (the
   * GLSL authors' choice). Either way they are counted in the report.
   */
  implausible?: 'drop' | 'keep';
  /** Progress lines (default: none). The CLI passes a writer to stderr. */
  onProgress?: (message: string) => void;
}

export interface IbrlLoadReport {
  files: number;
  lines: number;
  linesPerMote: Record<NodeId, number>;
  missingLight: number;
  implausibleTemperatures: { mote: NodeId; line: number; epoch: number; value: number }[];
  implausibleHandling: 'drop' | 'keep';
  /** Lines skipped in all files (unparseable or naming another mote), the first few with their reasons. */
  badLines: number;
  firstBadLines: IbrlLineIssue[];
  excluded: NodeId[];
  /** Motes with no reading inside the aligned epoch range: their values come from outside it. */
  outOfRange: NodeId[];
}

export interface IbrlDataset {
  /** Aligned series; `times` holds the sample epochs. */
  series: Series;
  sampleEpochs: number[];
  /** Seconds per epoch, from the first and last readings' timestamps (about 31 s on IBRL). */
  secondsPerEpoch: number;
  report: IbrlLoadReport;
}

/** Lists the mote ids that have a `readings/<id>.txt` file, in numeric order. */
export async function listMotes(dir: string): Promise<NodeId[]> {
  const readingsDir = path.join(dir, 'readings');
  let names: string[];
  try {
    names = await readdir(readingsDir);
  } catch (error) {
    throw new UserError(
      'IBRL_MISSING',
      `cannot read ${readingsDir}: ${(error as Error).message}`,
      'Point --data at a folder holding readings/<id>.txt files (wsn-watch data download ibrl builds one).',
    );
  }
  const ids = names.filter((n) => /^\d+\.txt$/.test(n)).map((n) => n.slice(0, -4));
  if (ids.length === 0)
    throw new UserError(
      'IBRL_EMPTY',
      `${readingsDir} holds no <id>.txt files`,
      'Download the data first: wsn-watch data download ibrl --out DIR',
    );
  return ids.sort((a, b) => Number(a) - Number(b));
}

/** Reads and parses one mote's file. */
export async function readMote(dir: string, mote: NodeId): Promise<MoteReadings> {
  const file = path.join(dir, 'readings', `${mote}.txt`);
  const text = await readFile(file, 'utf8');
  return parseMoteFile(text, path.join('readings', `${mote}.txt`), mote);
}

/** Aligns one mote's readings on the sample epochs, writing into `data` (steps × N × M). */
function alignMote(
  readings: MoteReadings,
  columns: number[],
  samples: readonly number[],
  drop: Set<number>,
  data: Float32Array,
  n: number,
  N: number,
): void {
  const M = columns.length;
  // Per column, the rows usable for it: light is missing on some lines; dropped rows on none.
  const keep = (column: number, row: number): boolean =>
    !drop.has(row) && !Number.isNaN(readings.values[row * 4 + column]);
  for (let m = 0; m < M; m++) {
    const column = columns[m];
    let rows: number[] | undefined;
    for (let r = 0; r < readings.lines; r++) {
      if (!keep(column, r)) {
        rows = [];
        break;
      }
    }
    if (rows) for (let r = 0; r < readings.lines; r++) if (keep(column, r)) rows.push(r);
    const epochs = rows ? Int32Array.from(rows, (r) => readings.epochs[r]) : readings.epochs;
    if (epochs.length === 0) {
      throw new UserError(
        'IBRL_NO_VALUES',
        `${readings.file}: no usable ${IBRL_MODALITIES[column]} value`,
        'Exclude this mote (--exclude) or drop this modality.',
      );
    }
    for (let t = 0; t < samples.length; t++) {
      const i = nearestIndex(epochs, samples[t]);
      const row = rows ? rows[i] : i;
      data[(t * N + n) * M + m] = readings.values[row * 4 + column];
    }
  }
}

/** The readings-file column of each wanted modality; an unknown name is a user error. */
function modalityColumns(modalities: readonly IbrlModality[]): number[] {
  return modalities.map((m) => {
    const c = IBRL_MODALITIES.indexOf(m);
    if (c < 0)
      throw new UserError(
        'IBRL_MODALITY',
        `unknown IBRL modality "${m}"`,
        `Use some of: ${IBRL_MODALITIES.join(', ')}`,
      );
    return c;
  });
}

/** Adds one mote's counts, bad lines (the first few) and implausible temperatures to the load report. */
function addToReport(report: IbrlLoadReport, readings: MoteReadings): void {
  report.files++;
  report.lines += readings.lines;
  report.linesPerMote[readings.mote] = readings.lines;
  report.missingLight += readings.missingLight;
  report.badLines += readings.badLines.length;
  for (const issue of readings.badLines)
    if (report.firstBadLines.length < MAX_REPORTED_BAD_LINES) report.firstBadLines.push(issue);
  for (const bad of readings.implausibleTemperatures)
    report.implausibleTemperatures.push({ mote: readings.mote, ...bad });
}

/** The rows holding implausible temperatures, to be dropped before alignment. */
function implausibleRows(readings: MoteReadings): Set<number> {
  const drop = new Set<number>();
  // Rows are epoch-sorted; map a bad line to its row by epoch and value.
  for (const bad of readings.implausibleTemperatures) {
    for (let r = 0; r < readings.lines; r++) {
      if (readings.epochs[r] === bad.epoch && readings.values[r * 4] === bad.value && !drop.has(r)) {
        drop.add(r);
        break;
      }
    }
  }
  return drop;
}

/** Loads the per-mote files and aligns them as the GLSL paper does. */
export async function loadIbrl(dir: string, options: IbrlLoadOptions = {}): Promise<IbrlDataset> {
  const exclude = new Set(options.exclude ?? PAPER_EXCLUDED_MOTES);
  const modalities = options.modalities ?? PAPER_MODALITIES;
  const columns = modalityColumns(modalities);
  const firstEpoch = options.firstEpoch ?? PAPER_ALIGNMENT.firstEpoch;
  const lastEpoch = options.lastEpoch ?? PAPER_ALIGNMENT.lastEpoch;
  const samples = sampleEpochs(firstEpoch, lastEpoch, options.samples ?? PAPER_ALIGNMENT.samples);
  const handling = options.implausible ?? 'drop';
  const available = await listMotes(dir);
  const wanted = options.motes ?? available;
  const missing = wanted.filter((m) => !available.includes(m));
  if (missing.length > 0)
    throw new UserError(
      'IBRL_MOTE',
      `no readings file for mote(s) ${missing.join(', ')} in ${path.join(dir, 'readings')}`,
      `Available motes: ${available.join(', ')}`,
    );
  const motes = wanted.filter((m) => !exclude.has(m));

  const N = motes.length;
  const M = columns.length;
  const data = new Float32Array(samples.length * N * M);
  const report: IbrlLoadReport = {
    files: 0,
    lines: 0,
    linesPerMote: {},
    missingLight: 0,
    implausibleTemperatures: [],
    implausibleHandling: handling,
    badLines: 0,
    firstBadLines: [],
    excluded: wanted.filter((m) => exclude.has(m)),
    outOfRange: [],
  };
  let earliest = { epoch: Infinity, time: NaN };
  let latest = { epoch: -Infinity, time: NaN };
  for (let n = 0; n < N; n++) {
    const readings = await readMote(dir, motes[n]);
    addToReport(report, readings);
    if (readings.lines === 0)
      throw new UserError('IBRL_EMPTY_MOTE', `${readings.file} has no readings`, 'Exclude this mote with --exclude.');
    if (readings.epochs[readings.lines - 1] < firstEpoch || readings.epochs[0] > lastEpoch)
      report.outOfRange.push(readings.mote);
    if (readings.epochs[0] < earliest.epoch) earliest = { epoch: readings.epochs[0], time: readings.firstTime };
    if (readings.epochs[readings.lines - 1] > latest.epoch)
      latest = { epoch: readings.epochs[readings.lines - 1], time: readings.lastTime };
    const drop = handling === 'drop' ? implausibleRows(readings) : new Set<number>();
    alignMote(readings, columns, samples, drop, data, n, N);
    const skipped = readings.badLines.length;
    const skippedNote =
      skipped === 0
        ? ''
        : `, ${skipped} bad line(s) skipped (first: ${readings.badLines[0].file}:${readings.badLines[0].line}: ${readings.badLines[0].message})`;
    options.onProgress?.(`ibrl: mote ${readings.mote} (${n + 1}/${N}): ${readings.lines} readings${skippedNote}`);
  }
  const secondsPerEpoch =
    Number.isFinite(earliest.time) && latest.epoch > earliest.epoch
      ? (latest.time - earliest.time) / 1000 / (latest.epoch - earliest.epoch)
      : NaN;
  const series: Series = {
    nodes: motes,
    modalities: modalities.map((m): Modality => m),
    steps: samples.length,
    data,
    times: samples,
  };
  return { series, sampleEpochs: samples, secondsPerEpoch, report };
}

/** Mote positions from `node.txt` (`id x y` per line, metres). Errors name the line and field. */
export async function readIbrlPositions(dir: string): Promise<Map<NodeId, { x: number; y: number }>> {
  const file = path.join(dir, 'node.txt');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(
      'IBRL_MISSING',
      `cannot read ${file}: ${(error as Error).message}`,
      'The data folder must hold node.txt with one "id x y" line per mote.',
    );
  }
  const positions = new Map<NodeId, { x: number; y: number }>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 3)
      throw new UserError('IBRL_PARSE', `node.txt:${i + 1}: expected 3 fields "id x y", found ${fields.length}`);
    const [id, xs, ys] = fields;
    const x = Number(xs);
    const y = Number(ys);
    if (!Number.isFinite(x)) throw new UserError('IBRL_PARSE', `node.txt:${i + 1}: field "x" is "${xs}", not a number`);
    if (!Number.isFinite(y)) throw new UserError('IBRL_PARSE', `node.txt:${i + 1}: field "y" is "${ys}", not a number`);
    positions.set(id, { x, y });
  });
  return positions;
}
