import { describe, expect, it } from 'vitest';
import { GATHER_STEP_MS, TickGather } from '../../../../detector/service/tick-gather.ts';
import { frameOf } from './fake-model.ts';

const T = 31_000;
const frames = (tick: number, ...clusters: string[]) =>
  clusters.map((cluster) => frameOf(cluster, tick * T, { '1': 1 }));

describe('TickGather', () => {
  const scored = (clusters: string[], at: number) => (tick: number) => (tick === at * T ? clusters : []);

  it('goes on at once when the newest tick holds every cluster scored at the tick before', () => {
    const gather = new TickGather(1_500, T, () => 0);
    expect(gather.verdict(frames(5, 'a', 'b'), scored(['a', 'b'], 4))).toEqual({ waitMs: 0, missing: 0 });
  });

  it('waits in steps while the missing frames keep coming, and at most gatherMs from the first hand-over of the tick', () => {
    let now = 0;
    const gather = new TickGather(1_000, T, () => now);
    const before = scored(['a', 'b', 'c', 'd', 'e', 'f'], 4);
    expect(gather.verdict(frames(5, 'a'), before)).toEqual({ waitMs: GATHER_STEP_MS, missing: 5 });
    now = 300;
    expect(gather.verdict(frames(5, 'a', 'b'), before)).toEqual({ waitMs: GATHER_STEP_MS, missing: 4 });
    now = 900;
    expect(gather.verdict(frames(5, 'a', 'b', 'c'), before)).toEqual({ waitMs: 100, missing: 3 });
    now = 1_000;
    expect(gather.verdict(frames(5, 'a', 'b', 'c', 'd'), before)).toEqual({ waitMs: 0, missing: 2 });
  });

  it('goes on when a wait brought none of the missing frames', () => {
    let now = 0;
    const gather = new TickGather(1_500, T, () => now);
    const before = scored(['a', 'b'], 4);
    expect(gather.verdict(frames(5, 'a'), before).waitMs).toBe(GATHER_STEP_MS);
    now = 250;
    expect(gather.verdict(frames(5, 'a'), before)).toEqual({ waitMs: 0, missing: 1 });
  });

  it('starts afresh at the next tick, and never waits with gatherMs 0 or for clusters not scored at the tick before', () => {
    let now = 0;
    const gather = new TickGather(1_500, T, () => now);
    expect(gather.verdict(frames(5, 'a'), scored(['a', 'b'], 4)).waitMs).toBe(GATHER_STEP_MS);
    now = 5_000;
    expect(gather.verdict(frames(6, 'a'), scored(['a', 'b'], 5)).waitMs).toBe(GATHER_STEP_MS);
    // b was last scored two ticks before: not expected.
    expect(gather.verdict(frames(7, 'a'), scored(['b'], 5)).waitMs).toBe(0);
    expect(new TickGather(0, T, () => 0).verdict(frames(5, 'a'), scored(['a', 'b'], 4)).waitMs).toBe(0);
  });
});
