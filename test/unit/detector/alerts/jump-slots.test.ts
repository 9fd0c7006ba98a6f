import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../../common/types.ts';
import { ReadingJumps, type JumpPolicy } from '../../../../detector/alerts/jumps.ts';
import { labFrame, labNode } from '../lab-frame.ts';
import { packedJumpsProblem } from '../../../../detector/alerts/packed-jumps.ts';

const POLICY: JumpPolicy = { multiple: 10, quietTicks: 3 };
const MODALITIES = ['temperature', 'humidity'];

/**
 * A fixed stream of 6 nodes whose wiggles change size every 700 ticks (so the size lists widen at either end and old
 * buckets are forgotten: lists replaced in the arena), with spikes, missing readings, and node 5 away for a while.
 */
function frameAt(t: number): Frame {
  const nodes = [];
  for (let n = 0; n < 6; n++) {
    if (n === 5 && t > 2_000 && t < 2_300) continue;
    const scale = [0.01, 0.5, 0.05, 3][Math.floor(t / 700) % 4];
    const wiggle = Math.sin(t * 12.9898 + n * 78.233) * scale;
    let temperature: number | null = 20 + n * 0.3 + Math.sin(t / 90) + wiggle;
    if ((t * 7 + n) % 409 === 0) temperature += 25;
    if ((t + n) % 53 === 0) temperature = null;
    nodes.push(labNode(String(n), { temperature, humidity: temperature === null ? null : 80 - temperature }));
  }
  return labFrame(t, nodes);
}

function observe(jumps: ReadingJumps, t: number): string[] {
  const frame = frameAt(t);
  const found = jumps.observe(
    frame,
    MODALITIES,
    frame.nodes.map(() => undefined),
    POLICY,
  );
  return [...found].map(([node, modality]) => `${t} ${node} ${modality}`);
}

describe('ReadingJumps packed statistics', () => {
  it('answer alike in batches kept for a rollback, settled or rolled back and replayed, through arena compactions', () => {
    const ticks = 6_000;
    const plain = new ReadingJumps();
    const expected: string[] = [];
    for (let t = 0; t < ticks; t++) expected.push(...observe(plain, t));

    const batched = new ReadingJumps();
    const answered: string[] = [];
    for (let from = 0, batch = 0; from < ticks; from += 7, batch++) {
      const to = Math.min(ticks, from + 7);
      const undo = batched.keepUndo();
      const tried: string[] = [];
      for (let t = from; t < to; t++) tried.push(...observe(batched, t));
      if (batch % 5 === 3) {
        // Rolled back (a failed sink write), then replayed as the service does.
        undo();
        batched.keepUndo();
        for (let t = from; t < to; t++) answered.push(...observe(batched, t));
      } else answered.push(...tried);
      batched.dropUndo();
    }
    expect(expected.length).toBeGreaterThan(20);
    expect(answered).toEqual(expected);
    expect(batched.toJSON()).toEqual(plain.toJSON());
    expect(batched.footprint().compactions).toBeGreaterThan(0);
    expect(plain.footprint().compactions).toBeGreaterThan(0);
  });

  it("journals a batch in a frame's worth of records per frame, and cuts a backlog's journal back once settled", () => {
    const jumps = new ReadingJumps();
    for (let t = 0; t < 100; t++) observe(jumps, t);
    // Nothing was kept for a rollback: nothing journalled.
    expect(jumps.footprint().journalBytes).toBe(0);
    jumps.keepUndo();
    observe(jumps, 100);
    jumps.dropUndo();
    const oneFrame = jumps.footprint().journalBytes;
    expect(oneFrame).toBeGreaterThan(0);
    jumps.keepUndo();
    observe(jumps, 101);
    jumps.dropUndo();
    expect(jumps.footprint().journalBytes).toBe(oneFrame);
    // A backlog: 40 frames in one batch.
    jumps.keepUndo();
    for (let t = 102; t < 142; t++) observe(jumps, t);
    expect(jumps.footprint().journalBytes).toBeGreaterThanOrEqual(40 * oneFrame);
    jumps.dropUndo();
    expect(jumps.footprint().journalBytes).toBe(oneFrame);
  });

  it("gives a node that arrives after another left that node's freed statistics fresh, once its batch is settled", () => {
    const jumps = new ReadingJumps();
    for (let t = 0; t < 300; t++) observe(jumps, t);
    const slots = jumps.footprint().slots;
    jumps.keepUndo();
    // Node 5 gone in a batch that goes through.
    const five = labFrame(
      300,
      [0, 1, 2, 3, 4].map((n) => labNode(String(n), { temperature: 20, humidity: 60 })),
    );
    jumps.observe(
      five,
      MODALITIES,
      five.nodes.map(() => undefined),
      POLICY,
    );
    jumps.dropUndo();
    expect(jumps.footprint().slots).toBe(slots - 2);
    const nine = labFrame(301, [
      ...[0, 1, 2, 3, 4].map((n) => labNode(String(n), { temperature: 20, humidity: 60 })),
      labNode('9', { temperature: 21, humidity: 59 }),
    ]);
    jumps.keepUndo();
    jumps.observe(
      nine,
      MODALITIES,
      nine.nodes.map(() => undefined),
      POLICY,
    );
    jumps.dropUndo();
    expect(jumps.footprint().slots).toBe(slots);
    const state = jumps.toJSON();
    expect(state['5']).toBeUndefined();
    expect(state['9'].temperature).toEqual({
      recent: [21],
      gaps: [1],
      step: 0,
      seen: 1,
      jumps: { zero: 0, low: 1, weights: [], unit: 1 },
      gapJumps: { zero: 0, low: 1, weights: [], unit: 1 },
      sinceJump: null,
    });
  });
});

describe('ReadingJumps packed checkpoint form', () => {
  it('restores to statistics that answer and pack as the originals do, from the packed form and the JSON form', () => {
    const original = new ReadingJumps();
    for (let t = 0; t < 1_000; t++) observe(original, t);
    const packed = original.pack();
    expect(packedJumpsProblem(packed)).toBeUndefined();
    const fromPacked = new ReadingJumps(packed);
    const fromJson = new ReadingJumps(original.toJSON());
    expect(fromPacked.toJSON()).toEqual(original.toJSON());
    expect(fromJson.pack()).toEqual(packed);
    const answers = (jumps: ReadingJumps): string[] => {
      const found: string[] = [];
      for (let t = 1_000; t < 2_100; t++) found.push(...observe(jumps, t));
      return found;
    };
    const expected = answers(original);
    expect(expected.length).toBeGreaterThan(5);
    expect(answers(fromPacked)).toEqual(expected);
    expect(answers(fromJson)).toEqual(expected);
    expect(fromPacked.pack()).toEqual(original.pack());
  });

  it('is the same whatever order the nodes and modalities came in', () => {
    const forward = new ReadingJumps();
    const backward = new ReadingJumps();
    for (let t = 0; t < 400; t++) {
      const frame = frameAt(t);
      forward.observe(
        frame,
        MODALITIES,
        frame.nodes.map(() => undefined),
        POLICY,
      );
      const reversed = { ...frame, nodes: [...frame.nodes].reverse() };
      backward.observe(
        reversed,
        [...MODALITIES].reverse(),
        reversed.nodes.map(() => undefined),
        POLICY,
      );
    }
    const packed = forward.pack();
    expect(packed.nodes).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(packed.modalities).toEqual(['humidity', 'temperature']);
    expect(backward.pack()).toEqual(packed);
  });
});
