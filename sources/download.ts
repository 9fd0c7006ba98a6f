/**
 * Downloader for the full public Intel Lab data file (data.txt.gz, one
 * reading a line: `date time epoch moteid temperature humidity light voltage`),
 * split into the per-mote layout the IBRL loader reads: readings/<id>.txt.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { UserError } from '../common/errors.ts';

/** Where the MIT CSAIL Intel Lab Data page serves the whole data set. */
export const INTEL_LAB_DATA_URL = 'http://db.csail.mit.edu/labdata/data.txt.gz';

/** The days of the GLSL paper's excerpt (inclusive). */
export const PAPER_DAYS = { from: '2004-03-04', to: '2004-03-08' } as const;

export interface SplitOptions {
  /** Keep only readings on these days (inclusive, YYYY-MM-DD); default: all. */
  fromDay?: string;
  toDay?: string;
  onProgress?: (message: string) => void;
}

export interface SplitReport {
  lines: number;
  written: number;
  /** Lines outside the day range. */
  outsideDays: number;
  /** Lines that are not readings (too few fields, no integer mote id): skipped, first few listed. */
  skipped: number;
  skippedExamples: { line: number; reason: string }[];
  motes: string[];
}

/** Splits a stream of (uncompressed) Intel Lab lines into outDir/readings/<id>.txt. */
export async function splitIntoMotes(
  input: Readable,
  outDir: string,
  options: SplitOptions = {},
): Promise<SplitReport> {
  const readingsDir = path.join(outDir, 'readings');
  await mkdir(readingsDir, { recursive: true });
  const outputs = new Map<string, WriteStream>();
  const report: SplitReport = { lines: 0, written: 0, outsideDays: 0, skipped: 0, skippedExamples: [], motes: [] };
  const skip = (line: number, reason: string): void => {
    report.skipped++;
    if (report.skippedExamples.length < 10) report.skippedExamples.push({ line, reason });
  };
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    report.lines++;
    if (report.lines % 500_000 === 0) options.onProgress?.(`${report.lines} lines read, ${report.written} written`);
    if (line.trim() === '') continue;
    // Missing light leaves two spaces: split on runs of whitespace and keep the line as it is.
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) {
      skip(report.lines, `only ${fields.length} fields`);
      continue;
    }
    const [day, , epoch, mote] = fields;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      skip(report.lines, `field "date" is "${day}"`);
      continue;
    }
    if (!/^\d+$/.test(epoch)) {
      skip(report.lines, `field "epoch" is "${epoch}"`);
      continue;
    }
    if (!/^\d+$/.test(mote)) {
      skip(report.lines, `field "moteid" is "${mote}"`);
      continue;
    }
    if ((options.fromDay && day < options.fromDay) || (options.toDay && day > options.toDay)) {
      report.outsideDays++;
      continue;
    }
    const id = String(Number(mote));
    let out = outputs.get(id);
    if (!out) {
      out = createWriteStream(path.join(readingsDir, `${id}.txt`));
      outputs.set(id, out);
    }
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    report.written++;
  }
  await Promise.all(
    [...outputs.values()].map(
      (out) =>
        new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve()))),
    ),
  );
  report.motes = [...outputs.keys()].sort((a, b) => Number(a) - Number(b));
  return report;
}

/** Opens a gzip source: an http(s) URL or a local file path. */
async function openSource(source: string): Promise<Readable> {
  if (!/^https?:\/\//.test(source)) {
    const stream = createReadStream(source);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (error) =>
        reject(
          new UserError(
            'DOWNLOAD_FAILED',
            `cannot read ${source}: ${error.message}`,
            'Pass an http(s) URL or an existing data.txt.gz file.',
          ),
        ),
      );
    });
    return stream;
  }
  const host = new URL(source).host;
  let response: Response;
  try {
    response = await fetch(source);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new UserError(
      'DOWNLOAD_UNREACHABLE',
      `cannot reach ${host} to download ${source}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
      'Check the network connection (or proxy), or download data.txt.gz elsewhere and pass it with --url PATH.',
    );
  }
  if (!response.ok || !response.body) {
    throw new UserError(
      'DOWNLOAD_FAILED',
      `${source} answered HTTP ${response.status} ${response.statusText}`,
      'Check the URL (--url); the file is data.txt.gz on the Intel Lab Data page.',
    );
  }
  return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
}

/** Downloads (or reads) data.txt.gz and splits it into outDir/readings/<id>.txt. */
export async function downloadIntelLab(
  source: string,
  outDir: string,
  options: SplitOptions = {},
): Promise<SplitReport> {
  const input = await openSource(source);
  const gunzip = createGunzip();
  const failed = new Promise<never>((_, reject) => {
    gunzip.once('error', (error) =>
      reject(
        new UserError(
          'DOWNLOAD_CORRUPT',
          `${source} is not a valid gzip file: ${error.message}`,
          'Download it again; the file must be data.txt.gz.',
        ),
      ),
    );
    input.once('error', (error) =>
      reject(new UserError('DOWNLOAD_FAILED', `reading ${source} failed: ${error.message}`, 'Try again.')),
    );
  });
  return Promise.race([splitIntoMotes(input.pipe(gunzip), outDir, options), failed]);
}
