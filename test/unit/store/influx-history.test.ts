import { describe, expect, it } from 'vitest';
import {
  markedEpisodes,
  pageSpans,
  readNodeTicks,
  type InfluxRows,
  type StoredNodeTick,
} from '../../../store/influx-history.ts';

const TICK = 31_000;
const T0 = Date.UTC(2026, 10, 1);

/** Stored anomaly points as InfluxDB returns them for the SELECTs of readNodeTicks (time range, LIMIT, OFFSET honoured). */
function fakeInflux(points: Array<Record<string, unknown>>): { rows: InfluxRows; queries: string[]; sizes: number[] } {
  const queries: string[] = [];
  const sizes: number[] = [];
  const sorted = [...points].sort(
    (a, b) => Number(a.time) - Number(b.time) || String(a.node).localeCompare(String(b.node)),
  );
  const rows: InfluxRows = async (influxql) => {
    queries.push(influxql);
    const match = /time >= (\d+)ms AND time < (\d+)ms LIMIT (\d+)(?: OFFSET (\d+))?/.exec(influxql);
    if (!match) throw new Error(`unexpected query ${influxql}`);
    const [from, until, limit, offset] = [match[1], match[2], match[3], match[4] ?? '0'].map(Number);
    const page = sorted.filter((p) => Number(p.time) >= from && Number(p.time) < until).slice(offset, offset + limit);
    sizes.push(page.length);
    return page;
  };
  return { rows, queries, sizes };
}

function grid(
  nodes: number,
  ticks: number,
  extra: (node: number, tick: number) => Record<string, unknown> = () => ({}),
) {
  const points: Array<Record<string, unknown>> = [];
  for (let t = 0; t < ticks; t++)
    for (let n = 0; n < nodes; n++)
      points.push({
        time: T0 + t * TICK,
        node: `n${n}`,
        value_temperature: 20 + n,
        value_humidity: 40,
        ...extra(n, t),
      });
  return points;
}

async function readAll(rows: InfluxRows, nodes: number, ticks: number, pageRows: number): Promise<StoredNodeTick[][]> {
  const pages: StoredNodeTick[][] = [];
  for await (const page of readNodeTicks(rows, {
    network: 'lab',
    from: T0,
    until: T0 + ticks * TICK,
    tickMs: TICK,
    modalities: ['temperature', 'humidity'],
    nodes,
    pageRows,
  }))
    pages.push(page);
  return pages;
}

describe('pageSpans', () => {
  it('cuts the period into whole-tick spans that hold at most pageRows node-ticks, covering it once', () => {
    const spans = pageSpans(T0, T0 + 100 * TICK, TICK, 7, 50);
    // 50 / 7 nodes = 7 ticks a page.
    expect(spans[0]).toEqual({ from: T0, until: T0 + 7 * TICK });
    expect(spans).toHaveLength(Math.ceil(100 / 7));
    for (let i = 1; i < spans.length; i++) expect(spans[i].from).toBe(spans[i - 1].until);
    expect(spans.at(-1)!.until).toBe(T0 + 100 * TICK);
  });

  it('gives a page of one tick when the network has more nodes than a page holds', () => {
    expect(pageSpans(T0, T0 + 3 * TICK, TICK, 500, 100)).toHaveLength(3);
  });
});

describe('readNodeTicks', () => {
  it('reads every node-tick exactly once, never more than pageRows per query', async () => {
    const points = grid(5, 40, (n, t) => (n === 2 && t === 7 ? { is_anomaly: true } : { is_anomaly: false }));
    const fake = fakeInflux(points);
    const pages = await readAll(fake.rows, 5, 40, 12);
    const all = pages.flat();
    expect(all).toHaveLength(200);
    expect(new Set(all.map((t) => `${t.node}@${t.time}`)).size).toBe(200);
    expect(Math.max(...fake.sizes)).toBeLessThanOrEqual(12);
    expect(fake.queries.length).toBeGreaterThan(200 / 12);
    expect(fake.queries.every((q) => q.includes(`"network" = 'lab'`))).toBe(true);
    expect(all.find((t) => t.node === 'n2' && t.time === T0 + 7 * TICK)).toMatchObject({
      alerted: true,
      silenced: false,
      values: { temperature: 22, humidity: 40 },
    });
  });

  it('splits a page that comes back full (more points than the node count said) and still reads everything', async () => {
    // 6 nodes stored, but the pages were sized for 2: each first query overflows and is halved.
    const fake = fakeInflux(grid(6, 10));
    const pages = await readAll(fake.rows, 2, 10, 10);
    expect(pages.flat()).toHaveLength(60);
    expect(new Set(pages.flat().map((t) => `${t.node}@${t.time}`)).size).toBe(60);
    expect(pages.every((page) => page.length <= 10)).toBe(true);
  });

  it('reads a single tick holding more node-ticks than a page with LIMIT and OFFSET', async () => {
    const fake = fakeInflux(grid(250, 1));
    const pages = await readAll(fake.rows, 1, 1, 100);
    expect(pages.flat()).toHaveLength(250);
    expect(new Set(pages.flat().map((t) => t.node)).size).toBe(250);
    expect(fake.queries.some((q) => q.includes('OFFSET 200'))).toBe(true);
  });
});

describe('markedEpisodes', () => {
  it('keeps the marks overlapping the period; an alert still firing when marked runs on', async () => {
    const rows: InfluxRows = async () => [
      { time: T0 - 10 * TICK, node: '1', verdict: 'true', ends_at: T0 - 5 * TICK },
      { time: T0 - 10 * TICK, node: '2', verdict: 'false', ends_at: T0 + 5 * TICK },
      { time: T0 + 10 * TICK, node: '3', verdict: 'true', ends_at: 0 },
    ];
    const episodes = await markedEpisodes(rows, 'lab', { from: T0, until: T0 + 100 * TICK });
    expect(episodes).toEqual([
      { node: '2', verdict: 'false', from: T0 - 10 * TICK, to: T0 + 5 * TICK },
      { node: '3', verdict: 'true', from: T0 + 10 * TICK, to: Infinity },
    ]);
  });
});
