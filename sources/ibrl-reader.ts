import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { UserError } from '../common/errors.ts';
import type { Reading } from '../common/types.ts';
import { compareIds } from '../common/ids.ts';

/**
 * Streams the raw IBRL readings (`readings/<mote>.txt`, one line
 * `date time epoch moteid temperature humidity [light] voltage`) of all motes
 * in event-time order, merging the per-mote files (each already in time order)
 * with a k-way merge, so memory stays at one pending line per mote.
 *
 * Times in the files carry no zone; they are taken as UTC, like every time in
 * wsn-watch. A line without light (two spaces where it would be, 7 fields)
 * gives a reading without the light modality. Lines that cannot be parsed are
 * reported to `onBadLine` with file and line number and skipped.
 */
export interface IbrlRawReading {
  /** Event time, UTC ms. */
  ts: number;
  /** The network's sampling round. */
  epoch: number;
  mote: string;
  values: Record<string, number>;
  file: string;
  line: number;
}

export interface IbrlLineIssue {
  file: string;
  line: number;
  message: string;
}

const LINE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;

/** Parses one line; `file` and `line` only label the result and the error. */
export function parseIbrlLine(text: string, file: string, line: number): IbrlRawReading | IbrlLineIssue {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 7 && fields.length !== 8) {
    return {
      file,
      line,
      message: `expected 8 fields (date time epoch moteid temperature humidity light voltage) or 7 without light, found ${fields.length}`,
    };
  }
  const time = LINE_TIME.exec(`${fields[0]} ${fields[1]}`);
  if (!time)
    return {
      file,
      line,
      message: `date/time ${JSON.stringify(`${fields[0]} ${fields[1]}`)} is not YYYY-MM-DD HH:MM:SS[.ffffff]`,
    };
  const ms = time[7] ? Math.floor(Number(`0.${time[7]}`) * 1000) : 0;
  const ts = Date.UTC(
    Number(time[1]),
    Number(time[2]) - 1,
    Number(time[3]),
    Number(time[4]),
    Number(time[5]),
    Number(time[6]),
    ms,
  );
  const epoch = Number(fields[2]);
  if (!Number.isInteger(epoch)) return { file, line, message: `epoch ${JSON.stringify(fields[2])} is not an integer` };
  const names =
    fields.length === 8 ? ['temperature', 'humidity', 'light', 'voltage'] : ['temperature', 'humidity', 'voltage'];
  const values: Record<string, number> = {};
  for (const [i, name] of names.entries()) {
    const value = Number(fields[4 + i]);
    if (!Number.isFinite(value))
      return { file, line, message: `${name} ${JSON.stringify(fields[4 + i])} is not a number` };
    values[name] = value;
  }
  return { ts, epoch, mote: fields[3], values, file, line };
}

/** The readings files of an IBRL folder (`<dir>/readings/*.txt`), with a user error if there are none. */
export function ibrlReadingFiles(dir: string): string[] {
  const folder = join(dir, 'readings');
  if (!existsSync(folder)) {
    throw new UserError(
      'IBRL_NOT_FOUND',
      `${folder} does not exist`,
      'pass --data with the IBRL folder that holds node.txt and readings/<mote>.txt (e.g. ../shared/data/ibrl)',
    );
  }
  const files = readdirSync(folder)
    .filter((f) => f.endsWith('.txt'))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
    .map((f) => join(folder, f));
  if (files.length === 0)
    throw new UserError('IBRL_EMPTY', `${folder} holds no <mote>.txt files`, 'check the --data folder');
  return files;
}

interface Cursor {
  /** Set once the cursor has a line; cursors without one never enter the heap. */
  next: IbrlRawReading;
  lines: AsyncIterator<string>;
  file: string;
  lineNo: number;
  lastTs: number;
}

/** A small binary min-heap on (ts, mote) so ties come out in a fixed order. */
class Heap {
  private items: Cursor[] = [];
  get size(): number {
    return this.items.length;
  }
  private less(a: Cursor, b: Cursor): boolean {
    return a.next.ts !== b.next.ts ? a.next.ts < b.next.ts : compareIds(a.next.mote, b.next.mote) < 0;
  }
  push(item: Cursor): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(a[i], a[parent])) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }
  pop(): Cursor | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m])) m = l;
        if (r < a.length && this.less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

export interface IbrlStreamOptions {
  /** Only readings with epoch ≥ fromEpoch. */
  fromEpoch?: number;
  /** Only readings with epoch ≤ toEpoch. */
  toEpoch?: number;
  onBadLine?: (issue: IbrlLineIssue) => void;
}

/** All readings of an IBRL folder in event-time order (ties by mote id). */
export async function* streamIbrl(dir: string, options: IbrlStreamOptions = {}): AsyncGenerator<IbrlRawReading> {
  const heap = new Heap();
  const advance = async (cursor: Cursor): Promise<boolean> => {
    for (;;) {
      const { value, done } = await cursor.lines.next();
      if (done) return false;
      cursor.lineNo++;
      if (value.trim() === '') continue;
      const parsed = parseIbrlLine(value, cursor.file, cursor.lineNo);
      if (!('ts' in parsed)) {
        options.onBadLine?.(parsed);
        continue;
      }
      if (options.fromEpoch !== undefined && parsed.epoch < options.fromEpoch) continue;
      if (options.toEpoch !== undefined && parsed.epoch > options.toEpoch) continue;
      if (parsed.ts < cursor.lastTs) {
        options.onBadLine?.({
          file: cursor.file,
          line: cursor.lineNo,
          message: 'time goes backwards in this file; line skipped to keep event-time order',
        });
        continue;
      }
      cursor.lastTs = parsed.ts;
      cursor.next = parsed;
      return true;
    }
  };
  const readers: Array<ReturnType<typeof createInterface>> = [];
  try {
    for (const file of ibrlReadingFiles(dir)) {
      const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
      readers.push(rl);
      const cursor: Cursor = {
        next: { ts: -Infinity, epoch: 0, mote: '', values: {}, file, line: 0 },
        lines: rl[Symbol.asyncIterator](),
        file,
        lineNo: 0,
        lastTs: -Infinity,
      };
      if (await advance(cursor)) heap.push(cursor);
    }
    while (heap.size > 0) {
      const cursor = heap.pop() as Cursor;
      yield cursor.next;
      if (await advance(cursor)) heap.push(cursor);
    }
  } finally {
    for (const rl of readers) rl.close();
  }
}

/** An IBRL raw reading as a wsn-watch reading of `network`. */
export function ibrlToReading(raw: IbrlRawReading, network: string): Reading {
  return { network, node: raw.mote, ts: raw.ts, values: raw.values };
}
