import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../../common/types.ts';
import { parseAlertsCsv } from '../../../../embedded/backtest/alerts-file.ts';
import {
  alertSpans,
  eventMetrics,
  isBackgroundAlert,
  parseEvents,
  type FaultEvent,
} from '../../../../embedded/backtest/events.ts';

const TICK = 60_000;

/** The localization counts of a set of events, as one line to compare. */
function localizationOf(all: ReturnType<typeof eventMetrics>['all']): string {
  return (
    `localization ${all.localization}, fault-caused ${all.localizationFaultCaused}, ` +
    `other alerts ${all.otherAlerts} (background ${all.otherAlertsBackground}, new ${all.otherAlertsNew})`
  );
}
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

  it('has no fault-caused localization without a clean run, and counts the other-node alerts', () => {
    const events: FaultEvent[] = [{ node: 'a', modality: 'temperature', start: at(100), end: at(160), kind: 'offset' }];
    const spans = alertSpans([alert('a', 'firing', 102), alert('b', 'firing', 130), alert('b', 'resolved', 140)]);
    const m = eventMetrics(events, spans, options);
    expect(localizationOf(m.all)).toBe('localization 0, fault-caused null, other alerts 1 (background null, new null)');
    expect(m.outcomes[0]).toMatchObject({
      othersAlerted: ['b'],
      otherAlerts: 1,
      backgroundAlerts: null,
      othersNew: null,
    });
  });
});

describe('localization against the clean run', () => {
  // A 1-hour offset on a; b alerts during it in the injected run.
  const events: FaultEvent[] = [{ node: 'a', modality: 'temperature', start: at(100), end: at(160), kind: 'offset' }];
  const injected = alertSpans([
    alert('a', 'firing', 102),
    alert('b', 'firing', 130),
    alert('b', 'resolved', 140),
    alert('a', 'resolved', 162),
  ]);

  it('does not count against fault-caused localization an alert the clean run also raised', () => {
    // The clean run (same data, no fault) had b alert a few ticks earlier: background.
    const clean = alertSpans([alert('b', 'firing', 127), alert('b', 'resolved', 137)]);
    const m = eventMetrics(events, injected, { ...options, background: clean });
    expect(m.all.detected).toBe(1);
    expect(localizationOf(m.all)).toBe('localization 0, fault-caused 1, other alerts 1 (background 1, new 0)');
    expect(m.outcomes[0]).toMatchObject({ othersAlerted: ['b'], backgroundAlerts: 1, othersNew: [] });
  });

  it('counts against both an alert only the injected run raised', () => {
    // The clean run had b alert too, but hours away from its alert during the fault; and c, which did not alert here.
    const clean = alertSpans([
      alert('b', 'firing', 600),
      alert('b', 'resolved', 610),
      alert('c', 'firing', 130),
      alert('c', 'resolved', 140),
    ]);
    const m = eventMetrics(events, injected, { ...options, background: clean });
    expect(localizationOf(m.all)).toBe('localization 0, fault-caused 0, other alerts 1 (background 0, new 1)');
    expect(m.outcomes[0].othersNew).toEqual(['b']);
    // With an empty clean run every other-node alert is new.
    expect(eventMetrics(events, injected, { ...options, background: [] }).all.localizationFaultCaused).toBe(0);
  });

  it('takes a clean alert as background when it fires within the grace of the alert, or is still firing', () => {
    const b = alertSpans([alert('b', 'firing', 130), alert('b', 'resolved', 140)])[0];
    const grace = 5 * TICK;
    const clean = (...transitions: ReturnType<typeof alert>[]) => alertSpans(transitions);
    // Resolved 5 ticks before b fired: inside the grace; 6 ticks before: outside.
    expect(isBackgroundAlert(b, clean(alert('b', 'firing', 110), alert('b', 'resolved', 125)), grace)).toBe(true);
    expect(isBackgroundAlert(b, clean(alert('b', 'firing', 110), alert('b', 'resolved', 124)), grace)).toBe(false);
    // Fired 5 ticks after b resolved: inside; 6: outside.
    expect(isBackgroundAlert(b, clean(alert('b', 'firing', 145)), grace)).toBe(true);
    expect(isBackgroundAlert(b, clean(alert('b', 'firing', 146)), grace)).toBe(false);
    // Firing since long before and never resolved: background. Another node's or a silent alert: not.
    expect(isBackgroundAlert(b, clean(alert('b', 'firing', 10)), grace)).toBe(true);
    expect(isBackgroundAlert(b, clean(alert('c', 'firing', 130)), grace)).toBe(false);
    expect(isBackgroundAlert(b, clean(alert('b', 'firing', 130, 'none', 'silent')), grace)).toBe(false);
  });
});

describe('alerts CSV of a clean backtest', () => {
  it('reads back the spans per scorer and names a bad line', () => {
    const text = [
      'scorer,node,cluster,kind,modality,since,fired,resolved,probability',
      'ibrl,13,c0,anomaly,temperature,2004-03-07T01:00:00.000Z,2004-03-07T01:01:02.000Z,2004-03-07T02:00:00.000Z,0.8123',
      'ibrl,18,c0,anomaly,temperature,2004-03-08T06:00:00.000Z,2004-03-08T06:01:02.000Z,,0.9900',
      'rolling-zscore,14,c0,silent,none,1078700000000,1078700000000,,0.0000',
    ].join('\n');
    const byScorer = parseAlertsCsv(text, 'clean.csv');
    expect([...byScorer.keys()]).toEqual(['ibrl', 'rolling-zscore']);
    expect(byScorer.get('ibrl')).toEqual([
      {
        node: '13',
        cluster: 'c0',
        kind: 'anomaly',
        modality: 'temperature',
        since: Date.parse('2004-03-07T01:00:00Z'),
        fired: Date.parse('2004-03-07T01:01:02Z'),
        resolved: Date.parse('2004-03-07T02:00:00Z'),
        probability: 0.8123,
      },
      expect.objectContaining({ node: '18', resolved: null }),
    ]);
    expect(byScorer.get('rolling-zscore')![0]).toMatchObject({ kind: 'silent', fired: 1_078_700_000_000 });
    expect(() => parseAlertsCsv(`${text}\nibrl,13,c0,anomaly,temperature,x,yesterday,,0.5`, 'clean.csv')).toThrow(
      /clean\.csv:5: fired "yesterday" is not a time/,
    );
    expect(() => parseAlertsCsv('scorer,node,kind\n', 'clean.csv')).toThrow(
      /clean\.csv:1: the header lacks fired, resolved/,
    );
    expect(() => parseAlertsCsv(`${text}\nibrl,13,c0,odd,temperature,,0,,0.5`, 'clean.csv')).toThrow(
      /clean\.csv:5: kind "odd" is not one of anomaly, silent, topology/,
    );
  });
});
