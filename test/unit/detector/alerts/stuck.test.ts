import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../../common/types.ts';
import {
  bucketTop,
  runBucket,
  StuckReadings,
  usualRun,
  WARMUP_RUNS,
  type StuckPolicy,
  type StuckStateJson,
} from '../../../../detector/alerts/stuck.ts';
import { packedStuckProblem } from '../../../../detector/alerts/packed-stuck.ts';
import recorded from './stuck-recorded.json' with { type: 'json' };
import { CHECKPOINT_TICK, sequenceFrames, traceSequence, type SequenceTrace } from './stuck-sequence.ts';
import { labFrame, labNode } from '../lab-frame.ts';

const POLICY: StuckPolicy & { minRepeats: number } = { multiple: 5, minRepeats: 20, neighbourShare: 0.5 };
const MODALITIES = ['temperature'];
const NODES = ['1', '2', '3', '4'];

/** A value that changes at every tick, different per node. */
const moving = (node: number, t: number): number => 20 + Math.sin(t / 7 + node) + ((t * 13 + node * 7) % 10) / 100;

interface NodeAt {
  value: number | null;
  stale?: boolean;
  silent?: boolean;
}

function frame(t: number, values: NodeAt[]): Frame {
  return labFrame(
    t,
    values.map((v, n) =>
      labNode(NODES[n], { temperature: v.value }, { staleTicks: v.stale ? 3 : 0, silent: v.silent }),
    ),
  );
}

/** Feeds ticks from..to-1; `at(n, t)` gives node n's reading; returns the ticks at which each node was stuck. */
function run(
  readings: StuckReadings,
  from: number,
  to: number,
  at: (n: number, t: number) => NodeAt,
  policy = POLICY,
  neighbours: ReadonlyArray<readonly string[] | undefined> = NODES.map(() => undefined),
): Map<string, number[]> {
  const stuckAt = new Map<string, number[]>();
  for (let t = from; t < to; t++) {
    const { stuck } = readings.observe(
      frame(
        t,
        NODES.map((_, n) => at(n, t)),
      ),
      MODALITIES,
      neighbours,
      policy,
    );
    for (const [node, modality] of stuck) {
      expect(modality).toBe('temperature');
      stuckAt.set(node, [...(stuckAt.get(node) ?? []), t]);
    }
  }
  return stuckAt;
}

describe('run length buckets', () => {
  it('count short runs exactly and long ones in narrow buckets whose top holds every length in them', () => {
    for (let r = 1; r <= 16; r++) expect(bucketTop(runBucket(r))).toBe(r);
    for (let r = 17; r <= 5000; r++) {
      const top = bucketTop(runBucket(r));
      expect(top).toBeGreaterThanOrEqual(r);
      expect(top).toBeLessThan(r * 1.1 + 1);
    }
  });

  it('the usual run is a high quantile of the ended runs, unknown before the warm-up', () => {
    expect(usualRun({ '1': WARMUP_RUNS - 1 })).toBeUndefined();
    // 1000 runs of 1 and 5 of 200 (a dark night among busy days): the long ones are under 1 %.
    expect(usualRun({ '1': 1000, [runBucket(200)]: 5 })).toBe(1);
    expect(usualRun({ '1': 900, '3': 100 })).toBe(3);
  });
});

describe('StuckReadings', () => {
  it('a stuck node among moving neighbours is stuck once its run outlasts the learnt length, until the value moves', () => {
    const readings = new StuckReadings();
    // Node 0 repeats each value 3 times (its usual run: 3), the others change every tick.
    const usual = (n: number, t: number): NodeAt => ({ value: n === 0 ? Math.floor(t / 3) % 50 : moving(n, t) });
    expect(run(readings, 0, 300, usual).size).toBe(0);
    // From tick 300 node 0 holds 7 for 40 ticks, then moves again.
    const stuckAt = run(readings, 300, 360, (n, t) => (n === 0 && t < 340 ? { value: 7 } : usual(n, t)));
    // Longer than 5 × 3 = 15 and than 20 readings: the 21st reading (tick 320) is the first stuck one.
    expect(stuckAt.get('1')).toEqual(Array.from({ length: 20 }, (_, i) => 320 + i));
    expect([...stuckAt.keys()]).toEqual(['1']);
  });

  it('names a run far longer than usual while the neighbours move before judging it stuck, and not once it is', () => {
    const readings = new StuckReadings();
    const policy = { ...POLICY, multiple: 10, minRepeats: 5 };
    const usual = (n: number, t: number): NodeAt => ({ value: n === 0 ? Math.floor(t / 3) % 50 : moving(n, t) });
    const at = (n: number, t: number): NodeAt => (n === 0 && t >= 300 && t < 340 ? { value: 7 } : usual(n, t));
    const unusualAt: number[] = [];
    const stuckAt: number[] = [];
    for (let t = 0; t < 360; t++) {
      const found = readings.observe(
        frame(
          t,
          NODES.map((_, n) => at(n, t)),
        ),
        MODALITIES,
        NODES.map(() => undefined),
        policy,
      );
      expect([...found.unusual.keys(), ...found.stuck.keys()].every((node) => node === '1')).toBe(true);
      if (found.unusual.has('1')) unusualAt.push(t);
      if (found.stuck.has('1')) stuckAt.push(t);
    }
    // Usual run 3: unusual from the 10th reading (over 3 × 3 and 5), stuck from the 31st (over 10 × 3) until it moves.
    expect(unusualAt).toEqual(Array.from({ length: 21 }, (_, i) => 309 + i));
    expect(stuckAt).toEqual(Array.from({ length: 10 }, (_, i) => 330 + i));
  });

  it('a quantized reading that repeats for long stretches as usual is not stuck', () => {
    const readings = new StuckReadings();
    // Node 0 is coarsely quantized: runs of 40 to 60 readings, like a battery voltage.
    const quantized = (n: number, t: number): NodeAt => ({
      value: n === 0 ? 2.6 + 0.01 * Math.floor((t + Math.floor(t / 500) * 7) / 50) : moving(n, t),
    });
    expect(run(readings, 0, 6000, quantized).size).toBe(0);
    // With a stricter multiple it would be judged: 60 readings > 1 × usual and > 20.
    const strict = new StuckReadings();
    const stuckAt = run(strict, 0, 6000, quantized, { ...POLICY, multiple: 0.5 });
    expect([...stuckAt.keys()]).toEqual(['1']);
  });

  it('judges against the graph neighbours, or the rest of the cluster for a node without any', () => {
    const at = (n: number, t: number): NodeAt => ({
      // Node 0 sticks from tick 200; node 1 (its only neighbour in the graph) sticks too, nodes 2 and 3 move.
      value: n <= 1 && t >= 200 ? 7 + n : moving(n, t),
    });
    const graph = [['2'], ['1'], ['4'], ['3']];
    const withGraph = run(new StuckReadings(), 0, 260, at, POLICY, graph);
    expect(withGraph.size).toBe(0);
    const isolated = run(new StuckReadings(), 0, 260, at, POLICY, [[], ['1'], ['4'], ['3']]);
    expect([...isolated.keys()]).toEqual(['1']);
  });

  it('a whole network repeating is not one node stuck', () => {
    const readings = new StuckReadings();
    run(readings, 0, 200, (n, t) => ({ value: moving(n, t) }));
    // Every node holds its value from tick 200 on (a dark night, a paused gateway replaying its last values).
    expect(run(readings, 200, 400, (n) => ({ value: 10 + n })).size).toBe(0);
  });

  it('held values, missing values and silence neither lengthen nor end a run', () => {
    const readings = new StuckReadings();
    run(readings, 0, 200, (n, t) => ({ value: moving(n, t) }));
    // Node 0 repeats 7 at every other tick; in between its value is held (stale), missing or it is silent.
    const gappy = (n: number, t: number): NodeAt => {
      if (n !== 0) return { value: moving(n, t) };
      if (t % 2 === 0) return { value: 7 };
      const gap = (t >> 1) % 3;
      return gap === 0 ? { value: 8, stale: true } : gap === 1 ? { value: null } : { value: 9, silent: true };
    };
    const stuckAt = run(readings, 200, 260, gappy);
    // 30 readings of 7 in 60 ticks: the 21st (tick 240) is the first stuck one; the gaps did not break the run.
    // Once stuck, it stays stuck through held and missing values; a silent node is the silence rule's.
    const silentTick = (t: number): boolean => t % 2 === 1 && (t >> 1) % 3 === 2;
    const expected = Array.from({ length: 20 }, (_, i) => 240 + i).filter((t) => !silentTick(t));
    expect(stuckAt.get('1')).toEqual(expected);
  });

  it('values within half the resolution the sensor has shown count as the same value', () => {
    const readings = new StuckReadings();
    // Node 0 moves in steps of 0.1 (its resolution); then it sits at 7 give or take float noise and 0.04.
    const steps = (n: number, t: number): NodeAt => ({ value: n === 0 ? 5 + ((t * 3) % 20) / 10 : moving(n, t) });
    run(readings, 0, 200, steps);
    const jitter = [0, 1e-12, -0.04, 0.04, 2e-13];
    const stuckAt = run(readings, 200, 230, (n, t) => (n === 0 ? { value: 7 + jitter[t % 5] } : steps(n, t)));
    expect(stuckAt.get('1')?.[0]).toBe(220);
  });

  it('a stuck run is a fault: not learnt as usual when it ends', () => {
    const readings = new StuckReadings();
    const usual = (n: number, t: number): NodeAt => ({ value: moving(n, t) });
    run(readings, 0, 200, usual);
    const stuckFor = (from: number): number[] =>
      run(readings, from, from + 100, (n, t) => (n === 0 && t < from + 60 ? { value: 7 + from } : usual(n, t))).get(
        '1',
      ) ?? [];
    const first = stuckFor(200);
    const second = stuckFor(300);
    expect(first[0]).toBe(220);
    expect(second[0]).toBe(320);
  });

  it('takes back every change of a batch after keepUndo: runs that end, a run judged stuck, a node gone, a new one', () => {
    const usual = (n: number, t: number): NodeAt => ({ value: n === 0 ? Math.floor(t / 3) % 50 : moving(n, t) });
    // From tick 300 node 0 holds 7, its value held (no reading) from tick 323; the others hold still until tick 325,
    // so node 0 is judged stuck at a tick it sent nothing (325); node 2 misses a reading now and then.
    const during = (n: number, t: number): NodeAt => {
      if (n === 0) return { value: 7, stale: t > 322 };
      if (n === 2 && t % 4 === 0) return { value: null };
      return t < 325 ? { value: 5 + n } : usual(n, t);
    };
    const readings = new StuckReadings();
    run(readings, 0, 300, usual);
    expect(run(readings, 300, 324, during).size).toBe(0);
    const before = readings.toJSON();
    const undo = readings.keepUndo();
    expect(run(readings, 324, 330, during).get('1')?.[0]).toBe(325);
    // Node 4 gone, node 9 new, node 0 moving again.
    const nodes = [0, 1, 2].map((n) => labNode(NODES[n], { temperature: usual(n, 330).value }));
    nodes.push(labNode('9', { temperature: 21 }));
    readings.observe(
      labFrame(330, nodes),
      MODALITIES,
      nodes.map(() => undefined),
      POLICY,
    );
    expect(Object.keys(readings.toJSON()).sort()).toEqual(['1', '2', '3', '9']);
    undo();
    expect(readings.toJSON()).toEqual(before);
    // And it goes on as statistics that never saw the batch do.
    const twin = new StuckReadings(before);
    const expected = run(twin, 324, 360, during);
    expect(run(readings, 324, 360, during)).toEqual(expected);
    expect(readings.toJSON()).toEqual(twin.toJSON());
  });

  it('round-trips through JSON and continues exactly', () => {
    const at = (n: number, t: number): NodeAt => ({ value: n === 0 && t >= 150 ? 3 : moving(n, t) });
    const reference = new StuckReadings();
    run(reference, 0, 160, at);
    const restored = new StuckReadings(JSON.parse(JSON.stringify(reference.toJSON())));
    expect(run(restored, 160, 200, at)).toEqual(run(reference, 160, 200, at));
    expect(restored.toJSON()).toEqual(reference.toJSON());
  });
});

describe('StuckReadings on a recorded sequence', () => {
  const recording = recorded as unknown as {
    before: SequenceTrace;
    after: SequenceTrace;
    checkpoint: StuckStateJson;
    final: StuckStateJson;
  };
  const frames = sequenceFrames();

  it('answers as recorded before the usual runs were kept sorted: the same stuck ticks and usual runs, the same checkpoints', () => {
    const readings = new StuckReadings();
    const usualOf = (node: string, modality: string) => readings.usualRun(node, modality);
    expect(traceSequence(readings, frames.slice(0, CHECKPOINT_TICK), 0, usualOf)).toEqual(recording.before);
    expect(readings.toJSON()).toEqual(recording.checkpoint);
    expect(traceSequence(readings, frames.slice(CHECKPOINT_TICK), CHECKPOINT_TICK, usualOf)).toEqual(recording.after);
    expect(readings.toJSON()).toEqual(recording.final);
    // The recording exercises what it should: stuck stretches and usual runs learnt on every modality.
    expect(recording.before.stuck.length + recording.after.stuck.length).toBeGreaterThan(10);
    for (const modality of ['temperature', 'voltage', 'light'])
      expect(recording.after.usual.some((line) => line.includes(modality) && !line.endsWith('undefined'))).toBe(true);
  });

  it('packs to a form that continues as the uninterrupted run did, the same whatever order its nodes came in', () => {
    const packed = new StuckReadings(recording.checkpoint).pack();
    expect(packedStuckProblem(packed)).toBeUndefined();
    expect(packed.nodes).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(packed.modalities).toEqual(['light', 'temperature', 'voltage']);
    const readings = new StuckReadings(packed);
    expect(readings.toJSON()).toEqual(recording.checkpoint);
    const trace = traceSequence(readings, frames.slice(CHECKPOINT_TICK), CHECKPOINT_TICK, (node, modality) =>
      readings.usualRun(node, modality),
    );
    expect(trace).toEqual(recording.after);
    expect(readings.toJSON()).toEqual(recording.final);
    // The same statistics, their nodes and modalities met in the reverse order, pack to the same arrays.
    const reversed = Object.fromEntries(
      Object.entries(recording.checkpoint)
        .reverse()
        .map(([node, runs]) => [node, Object.fromEntries(Object.entries(runs).reverse())]),
    );
    expect(new StuckReadings(reversed).pack()).toEqual(packed);
  });

  it('says what is wrong with a packed form', () => {
    const packed = new StuckReadings(recording.checkpoint).pack();
    const edited = (key: 'fields' | 'runs', at: number, value: number): string | undefined => {
      const array = Float64Array.from(packed[key]);
      array[at] = value;
      return packedStuckProblem({ ...packed, [key]: array });
    };
    expect(edited('fields', 2, 0)).toMatch(/^reading 0: repeats 0 is not a count of 1 or more/);
    expect(edited('fields', 7 + 4, 0.5)).toMatch(/^reading 1: stuck 0.5 is not 0 or 1/);
    expect(edited('runs', 1, packed.runs[0])).toMatch(/^reading 0: run bucket \d+ is not a count above the one before/);
    expect(packedStuckProblem({ ...packed, runs: packed.runs.subarray(2) })).toMatch(/^runs has \d+ numbers/);
    expect(packedStuckProblem({ ...packed, readings: packed.readings.subarray(1) })).toBe(
      'readings has 5 counts for 6 nodes',
    );
  });

  it('continues from a checkpoint recorded in the old format as the uninterrupted run did', () => {
    const readings = new StuckReadings(recording.checkpoint);
    const trace = traceSequence(readings, frames.slice(CHECKPOINT_TICK), CHECKPOINT_TICK, (node, modality) =>
      readings.usualRun(node, modality),
    );
    expect(trace).toEqual(recording.after);
    expect(readings.toJSON()).toEqual(recording.final);
  });
});
