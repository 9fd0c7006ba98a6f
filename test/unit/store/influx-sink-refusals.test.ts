import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { influxRefusal, InfluxSink } from '../../../store/influx-sink.ts';
import { createLogger } from '../../../common/log.ts';
import type { ResultBatch } from '../../../store/sink.ts';

/** A write's answer; `dropsDatabase`: the database is gone from then on (dropped by someone else). */
type Answer = { status: number; body?: string; dropsDatabase?: boolean };

function capturingLogger(name: string): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger(name, 'trace', { write: (line: string) => void lines.push(line) }), lines };
}

/**
 * A stand-in InfluxDB: it knows the database `wsn` until told otherwise,
 * answers each write with the next scripted answer (then 204), and records
 * the statements and writes it got.
 */
async function fakeInflux(writeAnswers: Answer[]) {
  const seen: string[] = [];
  let databases = ['wsn'];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/query') {
        const q = url.searchParams.get('q') ?? new URLSearchParams(body).get('q') ?? '';
        seen.push(q);
        if (/^create database/i.test(q)) databases = ['wsn'];
        const values = databases.map((name) => [name]);
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            results: [{ statement_id: 0, series: [{ name: 'databases', columns: ['name'], values }] }],
          }),
        );
        return;
      }
      seen.push(`write ${body.split('\n').filter(Boolean).length}`);
      const answer = writeAnswers.shift() ?? { status: 204 };
      if (answer.dropsDatabase) databases = [];
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const points = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    measurement: 'anomaly',
    tags: { node: String(i) },
    fields: { probability: 0.1 },
    timestamp: 1_000 + i,
  }));

/** A batch of `n` node-ticks: one frame of `n` nodes with a reading each. */
const batch = (n: number): ResultBatch => ({
  frames: [
    {
      network: 'lab',
      cluster: 'c0',
      tick: 1_000,
      topologyVersion: 'v',
      nodes: Array.from({ length: n }, (_, i) => ({
        node: String(i),
        values: { temperature: 20 + i },
        staleTicks: 0,
        silent: false,
      })),
    },
  ],
  scores: [],
  alerts: [],
});

/** The sink's two ways in: points given by a caller, and a detector batch (serialized by the sink itself). */
const writers: Array<[string, (sink: InfluxSink, n: number) => Promise<void>]> = [
  ['writePoints', (sink, n) => sink.writePoints(points(n))],
  ['write (a batch)', (sink, n) => sink.write(batch(n))],
];

const PARTIAL =
  '{"error":"partial write: max-values-per-tag limit exceeded (100000/100000): measurement=\\"anomaly\\" tag=\\"node\\" value=\\"100001\\" dropped=2"}';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe.each(writers)('InfluxSink.%s: what InfluxDB refuses for good is not retried', (_, send) => {
  it('a partial write (a limit) is logged with InfluxDB’s words, counted, and the write resolves without a retry', async () => {
    const influx = await fakeInflux([
      { status: 400, body: PARTIAL },
      { status: 400, body: PARTIAL },
    ]);
    close = influx.close;
    const { logger, lines } = capturingLogger('sink');
    const sink = new InfluxSink({ url: influx.url, database: 'wsn', retries: 3, minBackoffMs: 1, logger });
    const refused: Array<[number, string]> = [];
    sink.onRefused((count, reason) => refused.push([count, reason]));

    await send(sink, 5);

    expect(influx.seen.filter((entry) => entry.startsWith('write'))).toEqual(['write 5']);
    expect(refused).toEqual([[2, expect.stringContaining('max-values-per-tag limit exceeded') as string]]);
    const errors = () =>
      lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.level === 50);
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatchObject({ dropped: 2, of: 5, refusedSinceLastLine: 2, database: 'wsn' });
    expect(String(errors()[0].reason)).toContain('tag="node" value="100001"');
    // A refusal in every write is counted each time and logged once a minute.
    await send(sink, 5);
    expect(refused).toHaveLength(2);
    expect(errors()).toHaveLength(1);
  });

  it('a line InfluxDB cannot parse (400 without a count) counts the whole chunk as refused', async () => {
    const influx = await fakeInflux([
      { status: 400, body: '{"error":"unable to parse \'anomaly x=\': missing field value"}' },
    ]);
    close = influx.close;
    const sink = new InfluxSink({ url: influx.url, database: 'wsn', retries: 3, minBackoffMs: 1, batchSize: 3 });
    const refused: number[] = [];
    sink.onRefused((count) => refused.push(count));

    await send(sink, 5);

    expect(influx.seen.filter((entry) => entry.startsWith('write')).sort()).toEqual(['write 2', 'write 3']);
    expect(refused).toHaveLength(1);
    expect([2, 3]).toContain(refused[0]);
  });

  it('a server error is still retried until InfluxDB takes the write', async () => {
    const influx = await fakeInflux([{ status: 500, body: '{"error":"timeout"}' }]);
    close = influx.close;
    const sink = new InfluxSink({ url: influx.url, database: 'wsn', retries: 5, minBackoffMs: 100 });
    const refused: number[] = [];
    sink.onRefused((count) => refused.push(count));
    await send(sink, 1);
    expect(influx.seen.filter((entry) => entry.startsWith('write'))).toEqual(['write 1', 'write 1']);
    expect(refused).toEqual([]);
  });

  it('a database dropped under a running sink is created again and the chunk written', async () => {
    const influx = await fakeInflux([
      { status: 404, body: '{"error":"database not found: \\"wsn\\""}', dropsDatabase: true },
    ]);
    close = influx.close;
    const sink = new InfluxSink({ url: influx.url, database: 'wsn', retries: 2, minBackoffMs: 1 });

    await send(sink, 1);

    expect(influx.seen).toEqual(['show databases', 'write 1', 'show databases', 'create database "wsn"', 'write 1']);
  });
});

describe('influxRefusal', () => {
  const answer = (status: number, body: string) =>
    Object.assign(new Error(`A ${status} Bad Request error occurred: ${body}`), { res: { statusCode: status } });

  it('reads the dropped count of a partial write, and refuses to classify what is worth retrying', () => {
    expect(influxRefusal(answer(400, PARTIAL))).toMatchObject({ kind: 'refused', dropped: 2 });
    expect(
      influxRefusal(answer(400, '{"error":"partial write: field type conflict: input field \\"p\\" dropped=1"}')),
    ).toMatchObject({ kind: 'refused', dropped: 1, message: expect.stringContaining('field type conflict') as string });
    expect(influxRefusal(answer(404, '{"error":"database not found: \\"wsn\\""}'))).toMatchObject({
      kind: 'database not found',
    });
    expect(influxRefusal(answer(404, 'no such page'))).toBeUndefined();
    expect(influxRefusal(answer(401, '{"error":"authorization failed"}'))).toBeUndefined();
    expect(influxRefusal(answer(500, '{"error":"timeout"}'))).toBeUndefined();
    expect(influxRefusal(new Error('connect ECONNREFUSED'))).toBeUndefined();
  });
});
