import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../../common/types.ts';
import {
  learnSize,
  ReadingJumps,
  noSizes,
  sizeBucket,
  sizeOfBucket,
  sizeWeightsOf,
  usualSize,
  WARMUP_READINGS,
  type JumpPolicy,
  type JumpsStateJson,
  type SizeWeights,
  type StoredJumpsState,
} from '../../../../detector/alerts/jumps.ts';
import { labFrame, labNode } from '../lab-frame.ts';
import type { FadingSizes } from '../../../../detector/alerts/jumps.ts';

const POLICY: JumpPolicy = { multiple: 10, quietTicks: 3 };
const MODALITIES = ['temperature', 'humidity'];
const NODES = ['1', '2', '3', '4', '5'];

/** A slowly moving reading with small wiggles, different per node; humidity mirrors temperature. */
const usual = (node: number, t: number): number =>
  20 + node * 0.3 + Math.sin(t / 50) + (((t * 13 + node * 7) % 10) - 5) / 100;

interface NodeAt {
  temperature?: number | null;
  stale?: boolean;
  silent?: boolean;
}

function frame(t: number, at: (n: number) => NodeAt): Frame {
  return labFrame(
    t,
    NODES.map((node, n) => {
      const given = at(n);
      const temperature = given.temperature === undefined ? usual(n, t) : given.temperature;
      const values = { temperature, humidity: temperature === null ? null : 80 - temperature };
      return labNode(node, values, { staleTicks: given.stale ? 2 : 0, silent: given.silent });
    }),
  );
}

/** Feeds ticks from..to-1; returns, per node, the ticks it was sudden at and the modality named. */
function run(
  jumps: ReadingJumps,
  from: number,
  to: number,
  at: (n: number, t: number) => NodeAt = () => ({}),
): Map<string, Array<[number, string]>> {
  const sudden = new Map<string, Array<[number, string]>>();
  for (let t = from; t < to; t++) {
    const found = jumps.observe(
      frame(t, (n) => at(n, t)),
      MODALITIES,
      NODES.map(() => undefined),
      POLICY,
    );
    for (const [node, modality] of found) sudden.set(node, [...(sudden.get(node) ?? []), [t, modality]]);
  }
  return sudden;
}

describe('sizes', () => {
  it('buckets sizes an eighth of an octave wide, the top of a bucket holding its sizes', () => {
    for (const size of [1e-6, 0.01, 0.37, 2, 150]) {
      const bucket = sizeBucket(size);
      expect(sizeOfBucket(bucket)).toBeGreaterThanOrEqual(size * (1 - 1e-9));
      expect(sizeOfBucket(bucket - 1)).toBeLessThan(size);
    }
    expect(sizeBucket(0)).toBe(0);
  });

  it('takes the 99th percentile of the sizes as the usual one', () => {
    const weights: Record<string, number> = {};
    for (let i = 0; i < 990; i++) weights[String(sizeBucket(0.01))] = (weights[String(sizeBucket(0.01))] ?? 0) + 1;
    weights[String(sizeBucket(5))] = 10;
    expect(usualSize(sizeWeightsOf(weights))).toBeCloseTo(sizeOfBucket(sizeBucket(0.01)), 12);
    // 2 % above: the 99th percentile is the larger size.
    weights[String(sizeBucket(5))] = 20;
    expect(usualSize(sizeWeightsOf(weights))).toBeCloseTo(sizeOfBucket(sizeBucket(5)), 12);
    expect(usualSize(noSizes())).toBe(0);
  });

  it('keeps no change (bucket 0) apart from the dense list, and reads weights kept by bucket number', () => {
    const sizes = sizeWeightsOf({ '0': 980, [String(sizeBucket(0.5))]: 5, [String(sizeBucket(0.01))]: 15 });
    expect(sizes.zero).toBe(980);
    expect(sizes.low).toBe(sizeBucket(0.01));
    expect(sizes.weights).toHaveLength(sizeBucket(0.5) - sizeBucket(0.01) + 1);
    expect(usualSize(sizes)).toBeCloseTo(sizeOfBucket(sizeBucket(0.01)), 12);
    expect(usualSize({ ...sizes, zero: 2000 })).toBe(sizeOfBucket(0));
  });

  it('fades old sizes through the unit: a size learnt 5,000 sizes ago weighs 1/e, and is forgotten below a thousandth', () => {
    const sizes: FadingSizes = noSizes();
    learnSize(sizes, 5);
    for (let i = 0; i < 5_000; i++) learnSize(sizes, 0.01);
    const old = sizes.weights[sizeBucket(5) - sizes.low] / sizes.unit;
    expect(old).toBeCloseTo(Math.exp(-1), 3);
    // ln(1000) × 5,000 sizes later it is forgotten and leaves the list.
    for (let i = 0; i < 30_000; i++) learnSize(sizes, 0.01);
    expect(sizes.low).toBe(sizeBucket(0.01));
    expect(sizes.weights).toHaveLength(1);
  });

  it('brings the fading unit back to 1 before it could overflow, the sizes weighing the same', () => {
    const unit = 0.99999e100;
    const large: FadingSizes = { zero: 3 * unit, low: 10, weights: [5 * unit, 0, 2 * unit], unit };
    const plain: FadingSizes = { zero: 3, low: 10, weights: [5, 0, 2], unit: 1 };
    learnSize(large, sizeOfBucket(11));
    learnSize(plain, sizeOfBucket(11));
    expect(large.unit).toBe(1);
    expect(large.low).toBe(plain.low);
    expect(large.zero / large.unit).toBeCloseTo(plain.zero / plain.unit, 12);
    large.weights.forEach((weight, i) => expect(weight / large.unit).toBeCloseTo(plain.weights[i] / plain.unit, 12));
    expect(usualSize(large)).toBe(usualSize(plain));
  });
});

describe('ReadingJumps', () => {
  it('flags a one-reading spike on one node at its own tick, naming the modality, and nothing on clean readings', () => {
    const jumps = new ReadingJumps();
    expect(run(jumps, 0, 400).size).toBe(0);
    const sudden = run(jumps, 400, 420, (n, t) => (n === 2 && t === 405 ? { temperature: usual(2, t) - 12 } : {}));
    // Temperature jumps down, humidity (80 − temperature) up: the larger jump in usual units is named.
    expect([...sudden.keys()]).toEqual(['3']);
    expect(sudden.get('3')?.map(([t]) => t)).toEqual([405]);
    expect(['temperature', 'humidity']).toContain(sudden.get('3')?.[0][1]);
  });

  it('judges nothing before a reading has shown its warm-up readings', () => {
    const jumps = new ReadingJumps();
    const early = WARMUP_READINGS - 20;
    const sudden = run(jumps, 0, WARMUP_READINGS - 10, (n, t) => (n === 1 && t === early ? { temperature: 60 } : {}));
    expect(sudden.size).toBe(0);
  });

  it('leaves a jump of the whole neighbourhood alone (the environment), and a neighbour jumping with it', () => {
    const jumps = new ReadingJumps();
    run(jumps, 0, 400);
    // Every node steps up together: no gap to the neighbours changes.
    expect(run(jumps, 400, 420, (n, t) => (t >= 405 ? { temperature: usual(n, t) + 8 } : {})).size).toBe(0);
    // Two neighbours step up a tick apart (sun on one side of a room): the environment, not one node.
    const two = run(jumps, 420, 440, (n, t) =>
      (n === 0 && t >= 425) || (n === 1 && t >= 426)
        ? { temperature: usual(n, t) + 16 }
        : { temperature: usual(n, t) + 8 },
    );
    expect(two.get('2')).toBeUndefined();
    expect(two.get('1')?.length ?? 0).toBeLessThanOrEqual(1);
  });

  it('says nothing on held values or a silent node, and flags the jump when the reading arrives', () => {
    const jumps = new ReadingJumps();
    run(jumps, 0, 400);
    const sudden = run(jumps, 400, 420, (n, t) => {
      if (n !== 3) return {};
      if (t >= 405 && t < 408) return { stale: true, temperature: usual(3, 404) };
      if (t >= 408 && t < 410) return { silent: true, temperature: null };
      if (t === 410) return { temperature: usual(3, t) + 12 };
      return {};
    });
    expect(sudden.get('4')?.map(([t]) => t)).toEqual([410]);
  });

  it('does not learn a sudden reading as usual: a second spike of the same size is flagged again', () => {
    const jumps = new ReadingJumps();
    run(jumps, 0, 400);
    const spikes = new Set([405, 450, 500]);
    const sudden = run(jumps, 400, 520, (n, t) => (n === 0 && spikes.has(t) ? { temperature: usual(0, t) + 12 } : {}));
    expect(sudden.get('1')?.map(([t]) => t)).toEqual([405, 450, 500]);
  });

  /** Runs 400 ticks, checkpoints through `stored`, and expects the restored statistics to go on as the live ones do. */
  function expectExactContinuation(stored: (state: JumpsStateJson) => unknown): void {
    const at = (n: number, t: number): NodeAt => (n === 4 && t === 430 ? { temperature: usual(4, t) + 12 } : {});
    const reference = new ReadingJumps();
    run(reference, 0, 400);
    const expected = run(reference, 400, 440, at);
    const first = new ReadingJumps();
    run(first, 0, 400);
    const restored = new ReadingJumps(JSON.parse(JSON.stringify(stored(first.toJSON()))) as StoredJumpsState);
    expect(run(restored, 400, 440, at)).toEqual(expected);
    expect(expected.get('5')?.map(([t]) => t)).toEqual([430]);
  }

  it('takes back every change of a batch after keepUndo: spikes, held and missing values, a finer step, a node gone, a new one', () => {
    const spikes = (n: number, t: number): NodeAt => (n === 0 && t % 97 === 0 ? { temperature: usual(0, t) + 12 } : {});
    const jumps = new ReadingJumps();
    run(jumps, 0, 400, spikes);
    const before = jumps.toJSON();
    const undo = jumps.keepUndo();
    run(jumps, 400, 430, (n, t) => {
      if (n === 1 && t === 405) return { temperature: usual(1, t) + 12 };
      if (n === 2 && t % 3 === 0) return { temperature: null };
      if (n === 3 && t === 410) return { stale: true };
      // A change far below any seen so far: the reading's resolution (step) shrinks, and must come back.
      if (n === 4 && t === 415) return { temperature: usual(4, 414) + 1e-6 };
      return spikes(n, t);
    });
    // Node 5 gone, node 9 new.
    const nodes = [0, 1, 2, 3].map((n) =>
      labNode(NODES[n], { temperature: usual(n, 430), humidity: 80 - usual(n, 430) }),
    );
    nodes.push(labNode('9', { temperature: 21, humidity: 59 }));
    jumps.observe(
      labFrame(430, nodes),
      MODALITIES,
      nodes.map(() => undefined),
      POLICY,
    );
    expect(Object.keys(jumps.toJSON()).sort()).toEqual(['1', '2', '3', '4', '9']);
    undo();
    expect(jumps.toJSON()).toEqual(before);
    // And it goes on as statistics that never saw the batch do.
    const twin = new ReadingJumps(before);
    const at = (n: number, t: number): NodeAt => (n === 4 && t === 420 ? { temperature: usual(4, t) - 12 } : {});
    const expected = run(twin, 400, 440, at);
    expect(run(jumps, 400, 440, at)).toEqual(expected);
    expect(expected.get('5')?.map(([t]) => t)).toEqual([420]);
  });

  it('continues exactly from its JSON state (checkpoint)', () => {
    expectExactContinuation((state) => state);
  });

  it('continues exactly from a checkpoint that kept the weights by bucket number', () => {
    // As those checkpoints held them: in sizes (a unit of 1), the forgotten ones left out.
    const byBucket = (sizes: SizeWeights): Record<string, number> => {
      const unit = sizes.unit ?? 1;
      const out: Record<string, number> = sizes.zero >= 1e-3 * unit ? { '0': sizes.zero / unit } : {};
      sizes.weights.forEach((weight, i) => weight >= 1e-3 * unit && (out[String(sizes.low + i)] = weight / unit));
      return out;
    };
    expectExactContinuation((state) =>
      Object.fromEntries(
        Object.entries(state).map(([node, readings]) => [
          node,
          Object.fromEntries(
            Object.entries(readings).map(([modality, r]) => [
              modality,
              { ...r, jumps: byBucket(r.jumps), gapJumps: byBucket(r.gapJumps) },
            ]),
          ),
        ]),
      ),
    );
  });
});
