import { describe, expect, it } from 'vitest';
import {
  alertEpisodes,
  falseAlertTally,
  formatComparison,
  gateVerdict,
  type Comparison,
} from '../../../../detector/registry/gate.ts';
import { comparedPeriod } from '../../../../detector/registry/compare.ts';
import { promote, startShadow, stopShadow } from '../../../../detector/registry/pointer.ts';
import type { ModelVersion } from '../../../../model/registry/store.ts';

const T = 31_000;
const rules = { tickMs: T, alertAfterTicks: 2, resolveAfterTicks: 2 };
const ticks = (node: string, ...at: number[]) => at.map((t) => ({ node, time: t * T }));

function version(id: string): ModelVersion {
  return {
    id,
    created: '2026-11-29T00:00:00.000Z',
    network: 'lab',
    parent: null,
    dataRange: { from: null, to: null, samples: null, source: 'test' },
    metrics: {},
    threshold: 0.7,
    path: id,
    sha256: `sha-${id}`,
    origin: 'test',
  };
}

describe('the promotion gate', () => {
  it('counts episodes as the tracker opens them: runs of at least alertAfterTicks, short gaps joined, silences left out', () => {
    const anomalous = [
      ...ticks('a', 1, 2, 3, 6, 7), // gap of 2 ticks joins: one episode 1..7
      ...ticks('a', 20), // a single tick: no alert
      ...ticks('b', 5, 6), // silenced at 6: one tick left, no alert
      ...ticks('c', 9, 10, 30, 31),
    ];
    const silenced = new Set([`b@${6 * T}`]);
    expect(alertEpisodes(anomalous, silenced, rules)).toEqual([
      { node: 'a', from: 1 * T, to: 7 * T },
      { node: 'c', from: 9 * T, to: 10 * T },
      { node: 'c', from: 30 * T, to: 31 * T },
    ]);
  });

  it('an episode overlapping an alert marked true is confirmed; the rest are false alerts per node-day', () => {
    const episodes = [
      { node: 'a', from: 1 * T, to: 7 * T },
      { node: 'c', from: 9 * T, to: 10 * T },
    ];
    const marks = [
      { node: 'a', verdict: 'true' as const, from: 5 * T, to: Infinity },
      { node: 'c', verdict: 'false' as const, from: 9 * T, to: 10 * T },
    ];
    // 2787 ticks of 31 s ≈ 1 day per node; 4 nodes.
    const tally = falseAlertTally('v1', episodes, marks, 4 * 2787, T);
    expect(tally).toMatchObject({ version: 'v1', episodes: 2, confirmed: 1, falseAlerts: 1 });
    expect(tally.nodeDays).toBeCloseTo(4, 2);
    expect(tally.perNodeDay).toBeCloseTo(0.25, 3);
    expect(falseAlertTally('v2', [], [], 0, T).perNodeDay).toBeNull();
  });

  it('passes only with fewer false alerts and an evaluation not worse; says why it fails', () => {
    const tally = (v: string, falseAlerts: number) => ({
      version: v,
      episodes: falseAlerts,
      confirmed: 0,
      falseAlerts,
      nodeDays: 4,
      perNodeDay: falseAlerts / 4,
    });
    const score = (v: string, recall: number, f1: number) => ({ version: v, events: 14, recall, f1 });
    const base: Comparison = {
      network: 'lab',
      from: Date.UTC(2026, 10, 28),
      until: Date.UTC(2026, 10, 29),
      live: tally('v1', 3),
      shadow: tally('v2', 1),
      evaluation: { live: score('v1', 0.7, 0.6), shadow: score('v2', 0.7, 0.65) },
    };
    expect(gateVerdict(base)).toEqual({ pass: true, reasons: [] });
    expect(gateVerdict({ ...base, shadow: tally('v2', 3) }).reasons).toEqual([
      'false alerts per node-day 0.750 (v2) are not lower than 0.750 (v1)',
    ]);
    // Neither raised a false alert: not held against the candidate.
    expect(gateVerdict({ ...base, live: tally('v1', 0), shadow: tally('v2', 0) }).pass).toBe(true);
    const worse = { ...base, evaluation: { live: score('v1', 0.7, 0.6), shadow: score('v2', 0.5, 0.55) } };
    expect(gateVerdict(worse).reasons).toEqual([
      'event recall 0.500 (v2) is worse than 0.700 (v1)',
      'event F1 0.550 (v2) is worse than 0.600 (v1)',
    ]);
    const none = { ...base, evaluation: { unavailable: 'no readings stored in the period' } };
    expect(gateVerdict(none).reasons).toEqual(['no live-path evaluation: no readings stored in the period']);
    expect(formatComparison(worse, gateVerdict(worse))).toBe(
      [
        'network lab, 2026-11-28T00:00:00Z .. 2026-11-29T00:00:00Z',
        '                           v1 (live)  v2 (shadow)',
        'alert episodes             3          1',
        'confirmed by operators     0          0',
        'false alerts               3          1',
        'node-days                  4.00       4.00',
        'false alerts per node-day  0.750      0.250',
        'injected faults            14         14',
        'event recall               0.700      0.500',
        'event F1                   0.600      0.550',
        'gate: fails: event recall 0.500 (v2) is worse than 0.700 (v1); event F1 0.550 (v2) is worse than 0.600 (v1)',
      ].join('\n'),
    );
  });

  it('compares the period before --until; a version that never shadowed has nothing to compare', () => {
    const live = promote(undefined, 'lab', version('v1'), 'ana', 0);
    const shadowing = startShadow(live, version('v2'), { network: 'lab', by: 'ana', now: 10 * 3_600_000 });
    const until = 40 * 3_600_000;
    expect(comparedPeriod(shadowing, 'lab', 'v2', 86_400_000, until)).toEqual({
      network: 'lab',
      from: until - 86_400_000,
      until,
    });
    // A shadow that ended still counts as shadowed.
    expect(comparedPeriod(stopShadow(shadowing, 'lab', 20 * 3_600_000), 'lab', 'v2', 3_600_000, until).from).toBe(
      until - 3_600_000,
    );
    expect(() => comparedPeriod(shadowing, 'lab', 'v3', 86_400_000, until)).toThrow(/has not been shadow-scored/);
  });
});
