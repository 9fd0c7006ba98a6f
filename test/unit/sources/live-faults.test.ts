import { describe, expect, it } from 'vitest';
import { createRng } from '../../../common/random.ts';
import type { Reading } from '../../../common/types.ts';
import {
  LIVE_FAULT_KINDS,
  applyLiveFaults,
  defaultRecipes,
  planLiveFaults,
  type LiveFault,
} from '../../../sources/live-faults.ts';

const TICK = 31_000;
/** Two nodes reading a slow sine every tick for a day. */
function readings(): Reading[] {
  const out: Reading[] = [];
  for (let t = 0; t < 2_800; t++) {
    for (const node of ['a', 'b'])
      out.push({
        network: 'n',
        node,
        ts: t * TICK + 1_000,
        values: { temperature: 20 + Math.sin(t / 300), humidity: 40 },
      });
  }
  return out;
}

const fault = (kind: LiveFault['kind'], magnitude: number, extra: Partial<LiveFault> = {}): LiveFault => ({
  kind,
  node: 'a',
  modality: 'temperature',
  start: 1_000 * TICK,
  end: 1_400 * TICK,
  magnitude,
  ...extra,
});
const valuesOf = (list: Reading[], node: string, from: number, to: number): number[] =>
  list.filter((r) => r.node === node && r.ts >= from && r.ts <= to).map((r) => r.values.temperature);

describe('live faults on raw readings', () => {
  const clean = readings();
  const inside = (list: Reading[]) => valuesOf(list, 'a', 1_000 * TICK, 1_400 * TICK);
  const sigma = { temperature: 0.5, humidity: 2 };

  it('shifts, ramps, scales, freezes and adds noise only inside the fault, on its node and modality', () => {
    const base = inside(clean);
    const offset = inside(applyLiveFaults(clean, [fault('offset', 2)], sigma, 1));
    offset.forEach((v, i) => expect(v - base[i]).toBeCloseTo(1, 5));
    const drift = inside(applyLiveFaults(clean, [fault('drift', 3)], sigma, 1));
    expect(drift[0] - base[0]).toBeCloseTo(0, 2);
    expect(drift[drift.length - 1] - base[base.length - 1]).toBeCloseTo(1.5, 2);
    const gain = inside(applyLiveFaults(clean, [fault('gain', 2, { level: 20 })], sigma, 1));
    gain.forEach((v, i) => expect(v - 20).toBeCloseTo(2 * (base[i] - 20), 4));
    const stuck = inside(applyLiveFaults(clean, [fault('stuck', 0)], sigma, 1));
    expect(new Set(stuck).size).toBe(1);
    expect(stuck[0]).toBeCloseTo(valuesOf(clean, 'a', 999 * TICK, 999 * TICK + 1_000)[0], 6);
    const noise = inside(applyLiveFaults(clean, [fault('noise', 1)], sigma, 1)).map((v, i) => v - base[i]);
    const std = Math.sqrt(noise.reduce((a, x) => a + x * x, 0) / noise.length);
    expect(std).toBeGreaterThan(0.4);
    expect(std).toBeLessThan(0.6);
    // Nothing else moves.
    const after = applyLiveFaults(clean, [fault('offset', 2)], sigma, 1);
    expect(valuesOf(after, 'b', 0, Infinity)).toEqual(valuesOf(clean, 'b', 0, Infinity));
    expect(valuesOf(after, 'a', 0, 999 * TICK + 1_000)).toEqual(valuesOf(clean, 'a', 0, 999 * TICK + 1_000));
    expect(after.filter((r) => r.node === 'a').every((r) => r.values.humidity === 40)).toBe(true);
  });

  it('drops readings in blocks for a dropout, and keeps the others in order', () => {
    const out = applyLiveFaults(clean, [fault('dropout', 0)], sigma, 1);
    const kept = inside(out).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(inside(clean).length / 2);
    for (let i = 1; i < out.length; i++) expect(out[i].ts).toBeGreaterThanOrEqual(out[i - 1].ts);
  });

  it('plans one fault at a time, every kind, separated by the gap and inside the range', () => {
    const recipes = defaultRecipes(TICK);
    const faults = planLiveFaults({
      nodes: ['a', 'b', 'c'],
      modalities: ['temperature', 'humidity'],
      from: 0,
      to: 2 * 86_400_000,
      tickMs: TICK,
      gapTicks: 116,
      recipes,
      perKind: 1,
      rng: createRng(3),
    });
    expect(new Set(faults.map((f) => f.kind))).toEqual(new Set(LIVE_FAULT_KINDS));
    for (let i = 1; i < faults.length; i++)
      expect(faults[i].start - faults[i - 1].end).toBeGreaterThanOrEqual(116 * TICK);
    for (const f of faults) expect(f.end).toBeLessThan(2 * 86_400_000);
    const drift = faults.find((f) => f.kind === 'drift')!;
    expect(drift.end + 1 - drift.start).toBe(Math.round((3 * 3_600_000) / TICK) * TICK);
    expect(Math.abs(drift.magnitude)).toBe(3);
  });

  it('puts a spike on a round its node delivered, so that it changes a reading', () => {
    // Node 'a' reports only every fifth round: most 1–3-tick spans hold none of its readings.
    const sparse = readings().filter((r) => r.node !== 'a' || Math.round((r.ts - 1_000) / TICK) % 5 === 0);
    const nodes = ['a'];
    for (let seed = 1; seed <= 10; seed++) {
      const options = {
        nodes,
        modalities: ['temperature'],
        from: 0,
        to: 2_800 * TICK,
        tickMs: TICK,
        gapTicks: 40,
        recipes: defaultRecipes(TICK).filter((r) => r.kind === 'spike' || r.kind === 'offset'),
        perKind: 1,
      };
      const planned = planLiveFaults({ ...options, readings: sparse, rng: createRng(seed) });
      const spike = planned.find((f) => f.kind === 'spike')!;
      const hit = sparse.filter((r) => r.node === 'a' && r.ts >= spike.start && r.ts <= spike.end);
      expect(hit.length, `seed ${seed}`).toBeGreaterThan(0);
      expect(spike.start % TICK).toBe(0);
      const injected = applyLiveFaults(sparse, planned, { temperature: 0.5 }, seed);
      expect(valuesOf(injected, 'a', spike.start, spike.end)).not.toEqual(
        valuesOf(sparse, 'a', spike.start, spike.end),
      );
      // The other kinds are planned as without the readings (same draws), one at a time.
      const blind = planLiveFaults({ ...options, rng: createRng(seed) });
      expect(planned.map((f) => [f.kind, f.node, f.modality, f.magnitude])).toEqual(
        blind.map((f) => [f.kind, f.node, f.modality, f.magnitude]),
      );
      for (let i = 1; i < planned.length; i++)
        expect(planned[i].start - planned[i - 1].end).toBeGreaterThanOrEqual(40 * TICK);
    }
  });
});
