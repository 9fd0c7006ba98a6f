import { describe, expect, it } from 'vitest';
import { createRng } from '../../../common/random.ts';
import { seriesIndex } from '../../../sources/series.ts';
import {
  FAULT_CATALOGUE,
  INJECTION_KINDS,
  type Injection,
  channel,
  drawFault,
  faultLabelSpan,
  injectAnomaly,
  paperKind,
  pearson,
  randomInjection,
  trendSlope,
} from '../../../sources/inject.ts';
import type { Series } from '../../../sources/series.ts';
import { computeStats, modalityRange } from '../../../sources/normalize.ts';
import { makeSeries } from './helpers.ts';

// Node 0, modality 0: 10 + sin wave; a second node and modality with other levels.
const base = makeSeries(100, 2, 2, (t, n, m) => 10 + 5 * m + n + Math.sin(t / 5));
const stats = computeStats(base, { to: 60 });
const range = modalityRange(stats, 0);
const at = (s: typeof base, t: number): number => s.data[seriesIndex(s, t, 0, 0)];
const inj = (kind: Injection['kind'], extra: Partial<Injection> = {}): Injection => ({
  kind,
  node: 0,
  modality: 0,
  start: 40,
  length: 5,
  ...extra,
});

function untouchedOutside(out: typeof base, from: number, to: number): void {
  for (let i = 0; i < base.data.length; i++) {
    const t = Math.floor(i / 4);
    const channel0 = i % 4 === 0;
    if (!channel0 || t < from || t >= to) expect(out.data[i]).toBe(base.data[i]);
  }
}

describe('injectAnomaly', () => {
  it('returns a copy and leaves the input alone', () => {
    const before = base.data.slice();
    const out = injectAnomaly(base, inj('surge'), stats);
    expect(out.data).not.toBe(base.data);
    expect(base.data).toEqual(before);
  });

  it('surge adds the modality range to exactly the injected samples', () => {
    const out = injectAnomaly(base, inj('surge'), stats);
    for (let t = 40; t < 45; t++) expect(at(out, t) - at(base, t)).toBeCloseTo(range, 4);
    untouchedOutside(out, 40, 45);
  });

  it('mirror flips the sign around the training mean by default, around zero with pivot zero', () => {
    const mean = stats.mean[0];
    const out = injectAnomaly(base, inj('mirror'), stats);
    for (let t = 40; t < 45; t++) expect(at(out, t) - mean).toBeCloseTo(-(at(base, t) - mean), 4);
    const raw = injectAnomaly(base, inj('mirror', { pivot: 'zero' }), stats);
    for (let t = 40; t < 45; t++) expect(at(raw, t)).toBeCloseTo(-at(base, t), 4);
    untouchedOutside(raw, 40, 45);
  });

  it('scale multiplies the deviation from the pivot', () => {
    const out = injectAnomaly(base, inj('scale', { magnitude: 0.5, pivot: 'zero' }), stats);
    for (let t = 40; t < 45; t++) expect(at(out, t)).toBeCloseTo(0.5 * at(base, t), 4);
    const mean = stats.mean[0];
    const around = injectAnomaly(base, inj('scale', { magnitude: 1.5 }), stats);
    for (let t = 40; t < 45; t++) expect(at(around, t) - mean).toBeCloseTo(1.5 * (at(base, t) - mean), 4);
  });

  it('decay moves range/40 per sample from the previous sample, then walks back', () => {
    const out = injectAnomaly(base, inj('decay'), stats);
    const step = range / 40;
    for (let t = 40; t < 45; t++) expect(at(out, t)).toBeCloseTo(at(base, 39) - step * (t - 39), 4);
    for (let t = 45; t < 50; t++) expect(at(out, t)).toBeCloseTo(at(base, 39) - step * (5 - (t - 44)), 4);
    // Back at the level it left after the way back.
    expect(at(out, 49)).toBeCloseTo(at(base, 39), 4);
    untouchedOutside(out, 40, 50);
  });

  it('increase is the mirror image of decay', () => {
    const out = injectAnomaly(base, inj('increase'), stats);
    const step = range / 40;
    expect(at(out, 44)).toBeCloseTo(at(base, 39) + 5 * step, 4);
    expect(at(out, 49)).toBeCloseTo(at(base, 39), 4);
  });

  it('stuck holds the last value before the anomaly', () => {
    const out = injectAnomaly(base, inj('stuck'), stats);
    for (let t = 40; t < 45; t++) expect(at(out, t)).toBe(at(base, 39));
    untouchedOutside(out, 40, 45);
  });

  it('drift adds a growing offset', () => {
    const out = injectAnomaly(base, inj('drift', { magnitude: 0.2 }), stats);
    for (let t = 40; t < 45; t++) expect(at(out, t) - at(base, t)).toBeCloseTo(0.2 * (t - 39), 4);
  });

  it('noise changes the injected samples deterministically', () => {
    const a = injectAnomaly(base, inj('noise'), stats);
    const b = injectAnomaly(base, inj('noise'), stats);
    expect(a.data).toEqual(b.data);
    let changed = 0;
    for (let t = 40; t < 45; t++) if (Math.abs(at(a, t) - at(base, t)) > 1e-6) changed++;
    expect(changed).toBe(5);
    untouchedOutside(a, 40, 45);
  });

  it('rejects injections outside the series', () => {
    expect(() => injectAnomaly(base, inj('surge', { node: 2 }), stats)).toThrow(/node index 2/);
    expect(() => injectAnomaly(base, inj('surge', { start: 0 }), stats)).toThrow(/start 0/);
  });
});

describe('paperKind', () => {
  const steps = 200;
  // Node 0: m0 rises, m1 tracks it (r ≈ 1). Node 1: unrelated noise. Node 2: follows node 0's m0.
  const noise = createRng(7);
  const noiseValues = Array.from({ length: steps * 6 }, () => noise.normal());
  const correlated = makeSeries(steps, 3, 2, (t, n, m) => {
    if (n === 0) return m === 0 ? t * 0.1 : t * 0.2 + 3;
    if (n === 1) return noiseValues[t * 6 + m];
    return noiseValues[t * 6 + 2 + m];
  });

  it('ramps against the trend of a series that tracks another modality', () => {
    const choice = paperKind(correlated, 0, 0, correlated, 1, createRng(1));
    expect(choice.reason).toBe('intermodal');
    expect(choice.kind).toBe('decay');
    const falling = makeSeries(steps, 2, 2, (t, n, m) => (n === 0 ? -t * (m + 1) : noiseValues[t * 6 + m]));
    expect(paperKind(falling, 0, 0, falling, 1, createRng(1)).kind).toBe('increase');
  });

  it('ramps when the nearest mote correlates, and not for an unrelated one', () => {
    // Node 1's m0 is noise; node 2 copies it with a little offset: internode correlation.
    const pair = makeSeries(steps, 3, 2, (t, n, m) => {
      if (n === 2 && m === 0) return noiseValues[t * 6 + 2] * 2 + 1;
      return noiseValues[t * 6 + n * 2 + m];
    });
    expect(paperKind(pair, 1, 0, pair, 2, createRng(1)).reason).toBe('internode');
    const choice = paperKind(pair, 1, 0, pair, 0, createRng(1));
    expect(choice.reason).toBe('uncorrelated');
  });

  it('chooses among scale, mirror and surge for uncorrelated series, with scale ×0.5 or ×1.5', () => {
    const kinds = new Set<string>();
    const rng = createRng(3);
    for (let i = 0; i < 60; i++) {
      const choice = paperKind(correlated, 1, 0, correlated, 2, rng);
      expect(choice.reason).toBe('uncorrelated');
      kinds.add(choice.kind);
      if (choice.kind === 'scale') expect([0.5, 1.5]).toContain(choice.magnitude);
    }
    expect([...kinds].sort()).toEqual(['mirror', 'scale', 'surge']);
  });

  it('measures on the given span of the series instead of the training series', () => {
    // Correlated only within steps 100..130.
    const local = makeSeries(steps, 2, 2, (t, n, m) =>
      t >= 100 && t < 130 && n === 0 ? t * (m + 1) : noiseValues[t * 6 + n * 2 + m],
    );
    const training = makeSeries(100, 2, 2, (t, n, m) => noiseValues[t * 6 + n * 2 + m]);
    expect(paperKind(local, 0, 0, training, 1, createRng(1)).reason).toBe('uncorrelated');
    expect(paperKind(local, 0, 0, training, 1, createRng(1), { span: { from: 100, to: 130 } }).reason).toBe(
      'intermodal',
    );
  });
});

describe('helpers', () => {
  it('pearson and trendSlope', () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBe(0);
    expect(trendSlope([0, 2, 4, 6])).toBeCloseTo(2);
    expect(Array.from(channel(base, 0, 1, 0, 2))).toEqual([base.data[1], base.data[5]]);
  });
});

describe('randomInjection', () => {
  it('draws every kind, inside the series and the requested range', () => {
    const rng = createRng(11);
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const injection = randomInjection(base, rng, { from: 10, to: 60, minLength: 2, maxLength: 6 });
      seen.add(injection.kind);
      expect(injection.start).toBeGreaterThanOrEqual(10);
      const ramp = injection.kind === 'decay' || injection.kind === 'increase';
      expect(injection.start + injection.length * (ramp ? 2 : 1)).toBeLessThanOrEqual(60);
      expect(injection.length).toBeGreaterThanOrEqual(2);
      expect(injection.length).toBeLessThanOrEqual(6);
      expect(injection.node).toBeLessThan(2);
      expect(injection.modality).toBeLessThan(2);
      // Every drawn injection can be applied.
      injectAnomaly(base, injection, stats);
    }
    expect([...seen].sort()).toEqual([...INJECTION_KINDS].sort());
  });
});

describe('fault catalogue', () => {
  const steps = 400;
  const base: Series = {
    nodes: ['a', 'b'],
    modalities: ['temperature', 'voltage'],
    steps,
    data: Float32Array.from({ length: steps * 4 }, (_, i) => Math.sin(i / 37)),
  };
  const stats = computeStats(base);

  it('draws every kind within its duration bounds, a dying battery only for a temperature', () => {
    const rng = createRng(3);
    for (const spec of FAULT_CATALOGUE) {
      for (let k = 0; k < 50; k++) {
        const fault = drawFault(spec, rng, { node: 0, modality: 0, start: 10 }, 1, 2);
        expect(fault.length).toBeGreaterThanOrEqual(spec.minTicks);
        expect(fault.length).toBeLessThanOrEqual(spec.maxTicks);
      }
    }
    expect(FAULT_CATALOGUE.find((spec) => spec.kind === 'battery')!.modality!.test('temperature')).toBe(true);
    expect(FAULT_CATALOGUE.find((spec) => spec.kind === 'battery')!.modality!.test('voltage')).toBe(false);
    expect(new Set(FAULT_CATALOGUE.map((spec) => spec.kind))).toEqual(
      new Set(['spike', 'stuck', 'noise', 'offset', 'gain', 'drift', 'dropout', 'battery']),
    );
  });

  it('injects offset, dropout (held readings) and battery, and labels a drift only once it departs', () => {
    const offset = injectAnomaly(
      base,
      { kind: 'offset', node: 1, modality: 0, start: 50, length: 100, magnitude: 2 },
      stats,
    );
    expect(
      channel(offset, 1, 0, 50, 150).every((v, t) => Math.abs(v - channel(base, 1, 0, 50, 150)[t] - 2) < 1e-5),
    ).toBe(true);
    expect(channel(offset, 1, 0, 150, 151)[0]).toBeCloseTo(channel(base, 1, 0, 150, 151)[0], 5);

    const dropout = injectAnomaly(base, { kind: 'dropout', node: 0, modality: 0, start: 100, length: 60 }, stats);
    const held = channel(dropout, 0, 0, 99, 160);
    let repeats = 0;
    for (let t = 1; t < held.length; t++) if (held[t] === held[t - 1]) repeats++;
    expect(repeats).toBeGreaterThan(10);
    expect(repeats).toBeLessThan(60);

    const battery = injectAnomaly(
      base,
      { kind: 'battery', node: 0, modality: 0, start: 100, length: 200, magnitude: 6 },
      stats,
    );
    expect(channel(battery, 0, 0, 299, 300)[0] - channel(base, 0, 0, 299, 300)[0]).toBeGreaterThan(3);
    expect(Math.abs(channel(battery, 0, 0, 110, 111)[0] - channel(base, 0, 0, 110, 111)[0])).toBeLessThan(1);

    const drift: Injection = { kind: 'drift', node: 0, modality: 0, start: 100, length: 200, magnitude: 0.02 };
    const drifted = injectAnomaly(base, drift, stats);
    const std = stats.std[0];
    const span = faultLabelSpan(drift, base, drifted, std);
    // 0.02 per tick departs one std after std / 0.02 ticks.
    expect(span.start).toBe(100 + Math.ceil(std / 0.02) - 1);
    expect(span.end).toBe(300);
    expect(faultLabelSpan({ ...drift, kind: 'offset' }, base, drifted, std)).toEqual({ start: 100, end: 300 });
  });
});
