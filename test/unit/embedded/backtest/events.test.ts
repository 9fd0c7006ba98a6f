import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../../common/types.ts';
import { alertSpans, eventMetrics, parseEvents, type FaultEvent } from '../../../../embedded/backtest/events.ts';

const TICK = 60_000;
const at = (tick: number): number => tick * TICK;

function alert(
  node: string,
  status: 'firing' | 'resolved',
  tick: number,
  modality = 'temperature',
  kind: Alert['kind'] = 'anomaly',
): { tick: number; alert: Alert } {
  return {
    tick: at(tick),
    alert: {
      id: `n/c/${node}`,
      kind,
      status,
      network: 'n',
      cluster: node === 'far' ? 'c2' : 'c1',
      node,
      modality,
      probability: 0.9,
      startsAt: at(tick - 1),
      ...(status === 'resolved' ? { endsAt: at(tick) } : {}),
      dashboardUrl: '',
    },
  };
}

const clusterOf = new Map([
  ['a', 'c1'],
  ['b', 'c1'],
  ['c', 'c1'],
  ['far', 'c2'],
]);
const options = { tickMs: TICK, graceTicks: 5, from: 0, to: at(1440), nodes: 4, clusterOf };

describe('event metrics', () => {
  it('parses ISO and epoch-ms times and names a bad line', () => {
    expect(parseEvents('node,modality,start,end,kind\na,temperature,1970-01-01T00:10:00Z,1200000,offset\n')).toEqual([
      { node: 'a', modality: 'temperature', start: 600_000, end: 1_200_000, kind: 'offset' },
    ]);
    expect(() => parseEvents('node,modality,start,end,kind\na,t,0,10,spike\nb,t,20,10,spike\n', 'e.csv')).toThrow(
      /e\.csv:3: end 10 is before start 20/,
    );
    expect(() => parseEvents('node,start,end\n', 'e.csv')).toThrow(/e\.csv:1: the header lacks modality, kind/);
  });

  it('measures recall, time to detect, coverage, localization and false alerts per node-day', () => {
    const events: FaultEvent[] = [
      { node: 'a', modality: 'temperature', start: at(100), end: at(199), kind: 'offset' },
      { node: 'b', modality: 'humidity', start: at(400), end: at(409), kind: 'offset' },
      { node: 'c', modality: 'temperature', start: at(800), end: at(802), kind: 'spike' },
    ];
    const spans = alertSpans([
      // a: fires 3 ticks in, stays to the end of the fault: detected, localized.
      alert('a', 'firing', 103),
      alert('a', 'resolved', 200),
      // b: fires 2 ticks in naming the wrong modality; c (same cluster) alerts too; 'far' in another cluster does not count.
      alert('b', 'firing', 402, 'temperature'),
      alert('c', 'firing', 403),
      alert('far', 'firing', 403),
      alert('b', 'resolved', 405),
      alert('c', 'resolved', 406),
      alert('far', 'resolved', 406),
      // c's spike: missed. A silent alert is not a false anomaly alert.
      alert('a', 'firing', 1000, 'none', 'silent'),
    ]);
    const m = eventMetrics(events, spans, options);
    const offset = m.kinds.find((k) => k.kind === 'offset')!;
    expect(offset).toMatchObject({
      events: 2,
      detected: 2,
      recall: 1,
      medianTicksToDetect: 2.5,
      localization: 0.5,
      modalityRight: 0.5,
    });
    expect(offset.coverage).toBeCloseTo((97 / 100 + 3 / 10) / 2, 6);
    expect(m.kinds.find((k) => k.kind === 'spike')).toMatchObject({
      events: 1,
      detected: 0,
      recall: 0,
      medianTicksToDetect: null,
    });
    expect(m.outcomes[1].othersAlerted).toEqual(['c']);
    // c's and far's alerts are outside any fault of their own: 2 false alerts in 4 nodes × 1 day.
    expect(m.falseAlerts).toBe(2);
    expect(m.falseAlertsPerNodeDay).toBeCloseTo(2 / 4, 6);
    expect(m.precision).toBeCloseTo(2 / 4, 6);
    expect(m.f1).toBeCloseTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3), 6);
  });

  it('does not blame a node for alerting on a fault of its own', () => {
    const events: FaultEvent[] = [
      { node: 'a', modality: 'temperature', start: at(100), end: at(110), kind: 'offset' },
      { node: 'b', modality: 'temperature', start: at(105), end: at(120), kind: 'drift' },
    ];
    const spans = alertSpans([alert('a', 'firing', 101), alert('b', 'firing', 107)]);
    const m = eventMetrics(events, spans, options);
    expect(m.outcomes.map((o) => o.othersAlerted)).toEqual([[], []]);
    expect(m.all.localization).toBe(1);
  });
});
