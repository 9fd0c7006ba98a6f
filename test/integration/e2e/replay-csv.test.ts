import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ibrlToReading, streamIbrl } from '../../../sources/ibrl-reader.ts';
import { FIRST_EPOCH, SLICE_ALERTS, SLICE_MOTES, WINDOW, repoRoot } from './ibrl-slice.ts';
import { waitFor } from '../../support/wait.ts';
import { useSlicePipeline } from './slice-fixture.ts';
import { scoredClusterTicks } from '../../support/influx.ts';

// A user's history file (CSV) replayed with `wsn-watch replay csv` into the
// live pipeline on the real services: Kafka → ingest → Kafka → `wsn-watch detect` → InfluxDB.

const slice = useSlicePipeline();
const ROUNDS = 120;

/**
 * The slice's first ROUNDS rounds as a CSV in the file order a user might
 * have (grouped by mote, not by time), humidity left empty on every 5th row.
 */
async function sliceCsv(file: string): Promise<{ rows: number; firstTs: number; lastTs: number }> {
  const byMote = new Map<string, string[]>();
  let firstTs = Infinity;
  let lastTs = -Infinity;
  let rows = 0;
  for await (const raw of streamIbrl(slice.data.dir, { fromEpoch: FIRST_EPOCH, toEpoch: FIRST_EPOCH + ROUNDS - 1 })) {
    const reading = ibrlToReading(raw, 'csv');
    const { temperature, humidity, voltage } = reading.values;
    if (temperature === undefined || humidity === undefined || voltage === undefined) continue;
    rows++;
    firstTs = Math.min(firstTs, reading.ts);
    lastTs = Math.max(lastTs, reading.ts);
    const list = byMote.get(reading.node) ?? [];
    list.push(
      `${reading.node},${new Date(reading.ts).toISOString()},${temperature},${rows % 5 === 0 ? '' : humidity},${voltage}`,
    );
    byMote.set(reading.node, list);
  }
  await writeFile(file, ['node,ts,temperature,humidity,voltage', ...[...byMote.values()].flat()].join('\n') + '\n');
  return { rows, firstTs, lastTs };
}

describe('wsn-watch replay csv end to end (real Kafka, InfluxDB)', () => {
  it('sends a history file in event-time order; ingest accepts every reading and the detector scores every tick', async () => {
    const p = slice.open('replay-csv');
    const file = path.join(tmpdir(), `wsn-replay-csv-${p.id}.csv`);
    const truth = await sliceCsv(file);
    await p.startIngest(slice.data.nodeFile);
    await p.startDetector('d1', slice.model, SLICE_ALERTS, { alertmanager: false });

    const child = spawn(
      process.execPath,
      ['bin/wsn-watch.mjs', 'replay', 'csv', file, '--topic', p.topics.readings, '--speed', 'max'],
      {
        cwd: repoRoot,
        env: { ...process.env, WSN_CONFIG: '', WSN_NETWORK: p.network },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`sent ${truth.rows} readings to ${p.topics.readings}`);
    // Progress reaches stderr although it is a pipe, not a terminal.
    expect(stderr).toMatch(/replay: done, \d+ readings sent/);

    // Event-time order: the file is grouped by mote, yet nothing arrives late at ingest.
    await waitFor('ingest to accept every reading', async () => (await p.ingestCounts()).accepted === truth.rows);
    const { rejected, frames } = await p.ingestCounts();
    expect(rejected).toBe(0);
    expect(frames).toBeGreaterThan(ROUNDS / 2);

    // One cluster, one frame per tick; the first WINDOW - 1 ticks fill the window.
    await waitFor('the detector to score every emitted tick', async () => {
      return (await scoredClusterTicks(p)).size === frames - (WINDOW - 1);
    });
    const scored = await p.query<{ node: string; count: number }>(
      'SELECT COUNT(probability) AS count FROM anomaly GROUP BY node',
    );
    const nodes = await p
      .query<{ node: string }>('SHOW TAG VALUES FROM anomaly WITH KEY = node')
      .then((rows) => rows.map((row) => (row as unknown as { value: string }).value));
    expect(nodes.sort()).toEqual([...SLICE_MOTES].sort());
    expect(scored.length).toBeGreaterThan(0);
    const first = await p.query<{ time: Date }>('SELECT FIRST(cluster_probability) FROM anomaly');
    expect(first[0].time.getTime()).toBeGreaterThanOrEqual(Math.floor(truth.firstTs / 31_000) * 31_000);
    await rm(file, { force: true });
  });

  it('refuses a file with a bad line before it sends anything, naming the line and the field', async () => {
    const file = path.join(tmpdir(), `wsn-replay-csv-bad-${process.pid}.csv`);
    await writeFile(file, 'node,ts,temperature\n36,2004-03-04T00:00:26Z,20.5\n38,2004-03-04T00:00:31Z,warm\n');
    const child = spawn(
      process.execPath,
      ['bin/wsn-watch.mjs', 'replay', 'csv', file, '--topic', 'e2e.replay-csv.never-created'],
      { cwd: repoRoot, env: { ...process.env, WSN_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    await rm(file, { force: true });
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /error \[HISTORY_PARSE\]: wsn-replay-csv-bad-\d+\.csv:3: field "temperature" is "warm", not a number/,
    );
    expect(stderr).not.toContain('replay: ');
  });
});
