import { describe, expect, it } from 'vitest';
import { cleanReadings } from '../../../../detector/retrain/mask.ts';
import { loadStoredHistory } from '../../../../detector/retrain/history.ts';
import { UserError } from '../../../../common/errors.ts';
import type { InfluxRows, MarkedEpisode, StoredNodeTick } from '../../../../store/influx-history.ts';

const TICK = 31_000;
// On the 31 s tick grid (ticks start at multiples of the tick since the epoch).
const T0 = Math.floor(Date.UTC(2026, 10, 1) / TICK) * TICK;
const at = (tick: number): number => T0 + tick * TICK;

/** Two nodes, `ticks` ticks; `flags` sets alerted / silenced per node and tick. */
function stored(
  ticks: number,
  flags: (node: string, tick: number) => Partial<StoredNodeTick> = () => ({}),
): StoredNodeTick[] {
  return ['a', 'b'].flatMap((node) =>
    Array.from({ length: ticks }, (_, t) => ({
      node,
      time: at(t),
      values: { temperature: 20 + t / 100 },
      alerted: false,
      silenced: false,
      ...flags(node, t),
    })),
  );
}

const ticksOf = (readings: Array<{ node: string; ts: number }>, node: string): number[] =>
  readings.filter((r) => r.node === node).map((r) => Math.round((r.ts - T0) / TICK));

describe('cleanReadings', () => {
  it('leaves out an alerted run with the margin either side, and nothing of the other node', () => {
    const { readings, counts } = cleanReadings(
      stored(40, (node, t) => ({ alerted: node === 'a' && t >= 10 && t <= 12 })),
      [],
      { tickMs: TICK, marginTicks: 2 },
    );
    const a = ticksOf(readings, 'a');
    for (let t = 8; t <= 14; t++) expect(a).not.toContain(t);
    expect(a).toContain(7);
    expect(a).toContain(15);
    expect(ticksOf(readings, 'b')).toHaveLength(40);
    expect(counts).toEqual({ nodeTicks: 80, kept: 73, alerted: 7, silenced: 0, confirmed: 0, falseAlarmsKept: 0 });
  });

  it('leaves out silenced node-ticks and the whole span of an alert confirmed true', () => {
    const marks: MarkedEpisode[] = [{ node: 'b', verdict: 'true', from: at(20), to: at(25) }];
    const { readings, counts } = cleanReadings(
      stored(40, (node, t) => ({ silenced: node === 'a' && t < 5, alerted: node === 'b' && t === 21 })),
      marks,
      { tickMs: TICK, marginTicks: 1 },
    );
    // Silenced 0..4 + margin 1 after: 0..5.
    expect(ticksOf(readings, 'a')[0]).toBe(6);
    // Confirmed 20..25 + margin: 19..26, counted as confirmed (not alerted).
    const b = ticksOf(readings, 'b');
    for (let t = 19; t <= 26; t++) expect(b).not.toContain(t);
    expect(counts.silenced).toBe(6);
    expect(counts.confirmed).toBe(8);
    expect(counts.alerted).toBe(0);
  });

  it('keeps the alerted node-ticks of an alert marked a false alarm, as clean data', () => {
    const marks: MarkedEpisode[] = [{ node: 'a', verdict: 'false', from: at(10), to: at(14) }];
    const { readings, counts } = cleanReadings(
      stored(30, (node, t) => ({ alerted: node === 'a' && ((t >= 10 && t <= 14) || t === 25) })),
      marks,
      { tickMs: TICK, marginTicks: 3 },
    );
    const a = ticksOf(readings, 'a');
    for (let t = 10; t <= 14; t++) expect(a).toContain(t);
    // The later alert, not marked, is left out with its margin (22..28).
    expect(a).not.toContain(25);
    expect(counts.falseAlarmsKept).toBe(5);
    expect(counts.alerted).toBe(7);
  });

  it('an alert still firing when confirmed is left out to the end', () => {
    const marks: MarkedEpisode[] = [{ node: 'a', verdict: 'true', from: at(30), to: Infinity }];
    const { readings } = cleanReadings(stored(40), marks, { tickMs: TICK, marginTicks: 0 });
    expect(Math.max(...ticksOf(readings, 'a'))).toBe(29);
  });

  it('an alert confirmed long before the period leaves out the node from the first stored tick to its end', () => {
    const marks: MarkedEpisode[] = [{ node: 'a', verdict: 'true', from: at(-3_000_000), to: at(9) }];
    const { readings, counts } = cleanReadings(stored(40), marks, { tickMs: TICK, marginTicks: 1 });
    expect(Math.min(...ticksOf(readings, 'a'))).toBe(11);
    expect(counts.confirmed).toBe(11);
  });
});

describe('loadStoredHistory', () => {
  /** InfluxDB with the given node-ticks in `anomaly` and no feedback. */
  function influx(ticks: StoredNodeTick[]): InfluxRows {
    return async (q) => {
      if (q.startsWith('SHOW TAG VALUES')) return [...new Set(ticks.map((t) => t.node))].map((value) => ({ value }));
      if (q.includes('FROM "feedback"')) return [];
      const [, from, until] = /time >= (\d+)ms AND time < (\d+)ms/.exec(q)!.map(Number);
      return ticks
        .filter((t) => t.time >= from && t.time < until)
        .map((t) => ({
          time: t.time,
          node: t.node,
          value_temperature: t.values.temperature,
          is_anomaly: t.alerted,
          silenced: t.silenced || null,
        }));
    };
  }
  const options = {
    network: 'lab',
    from: T0,
    until: at(60),
    tickMs: TICK,
    modalities: ['temperature'],
    pageRows: 30,
    marginTicks: 2,
    maxGapTicks: 10,
    onProgress: () => undefined,
  };

  it('builds the history on the tick grid, the left-out node-ticks filled and flagged like gaps', async () => {
    const history = await loadStoredHistory(
      influx(stored(60, (node, t) => ({ alerted: node === 'a' && t === 30 }))),
      options,
    );
    const { series, mask } = history.dataset;
    expect(series.nodes).toEqual(['a', 'b']);
    expect(series.steps).toBe(60);
    expect(series.times![0]).toBe(T0);
    expect(series.times![1] - series.times![0]).toBe(TICK);
    // Node a (index 0) at ticks 28..32 was left out: filled (mask 0), and held at its value before.
    for (let t = 28; t <= 32; t++) expect(mask[t * 2 + 0]).toBe(0);
    expect(mask[27 * 2]).toBe(1);
    expect(series.data[30 * 2]).toBeCloseTo(20.27, 4);
    expect(history.counts.alerted).toBe(5);
    expect(history.pages).toBe(4);
  });

  it('says so when the period holds no readings, or the network none at all', async () => {
    const empty = loadStoredHistory(influx(stored(60)), { ...options, from: at(100), until: at(200) });
    await expect(empty).rejects.toThrow(UserError);
    await expect(empty).rejects.toThrow(/no readings of network lab between/);
    await expect(loadStoredHistory(influx([]), options)).rejects.toThrow(/holds no anomaly points of network lab/);
  });
});
