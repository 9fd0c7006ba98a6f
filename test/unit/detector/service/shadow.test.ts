import { describe, expect, it } from 'vitest';
import { FrameProcessor } from '../../../../detector/service/processor.ts';
import { gateShadowStarts } from '../../../../detector/service/shadow.ts';
import { shadowPoints } from '../../../../store/shadow.ts';
import { FIRING_ALERT, testPolicy } from '../alerts/sample-alert.ts';
import { FakeModel, frameOf } from './fake-model.ts';

const T = 31_000;
const livePolicy = testPolicy();

/** Node 3 runs warm from tick 6 on (probability near 0.4: under the live threshold, over the candidate's). */
const frames = Array.from({ length: 16 }, (_, i) =>
  frameOf('a', (i + 1) * T, { '1': 1 + (i % 3), '2': 2, '3': i >= 5 ? 4 : 1 }),
);

function candidate(threshold: number) {
  let disposed = 0;
  const slot = {
    version: 'v9',
    model: new FakeModel(),
    policy: testPolicy({ threshold, resolveThreshold: threshold * 0.8 }),
    dispose: () => void (disposed += 1),
  };
  return { slot, disposed: () => disposed };
}

describe('shadow scoring of a candidate version', () => {
  it('leaves the live scores and alerts as they are, and scores the same frames with its own state and tracker', async () => {
    const reference = new FrameProcessor({ model: new FakeModel(), policy: livePolicy, version: 'v1', tickMs: T });
    const expected = [await reference.process(frames.slice(0, 4)), await reference.process(frames.slice(4))];

    const processor = new FrameProcessor({ model: new FakeModel(), policy: livePolicy, version: 'v1', tickMs: T });
    const first = await processor.process(frames.slice(0, 4));
    const { slot, disposed } = candidate(0.3);
    processor.shadowWith(slot);
    expect(processor.shadowVersion).toBe('v9');
    const second = await processor.process(frames.slice(4));

    expect([first.scores, second.scores]).toEqual(expected.map((result) => result.scores));
    expect([first.alerts, second.alerts]).toEqual(expected.map((result) => result.alerts));
    expect(first.shadow).toEqual([]);
    // A fresh state from tick 5: its window (3) is full at tick 7, so it scores ticks 7..16 of 3 nodes.
    expect(new Set(second.shadow.map((score) => score.tick / T))).toEqual(
      new Set([7, 8, 9, 10, 11, 12, 13, 14, 15, 16]),
    );
    expect(second.shadow).toHaveLength(10 * 3);
    expect(second.shadow.every((score) => score.model === 'v9' && score.cluster === 'a')).toBe(true);
    // Its own threshold: node 3 is anomalous for the candidate, never for the live model.
    expect(second.scores.flatMap((score) => score.nodes).some((node) => node.isAnomaly)).toBe(false);
    expect(second.shadow.some((score) => score.node === '3' && score.isAnomaly)).toBe(true);
    // Its own tracker opened one episode on node 3 (after alertAfterTicks), flagged on that tick only.
    const opened = second.shadow.filter((score) => score.alertStarted);
    expect(opened.map((score) => score.node)).toEqual(['3']);
    expect(second.shadowAlerts.map((alert) => `${alert.node} ${alert.status}`)).toEqual(['3 firing']);
    expect(second.alerts.filter((alert) => alert.status === 'firing')).toEqual([]);

    // Stopped: no shadow scores, the candidate freed, the live scores still those of the reference.
    processor.shadowWith(undefined);
    expect(disposed()).toBe(1);
    const after = await processor.process([frameOf('a', 17 * T, { '1': 1, '2': 2, '3': 4 })]);
    expect(after.shadow).toEqual([]);
    expect(after.scores).toEqual((await reference.process([frameOf('a', 17 * T, { '1': 1, '2': 2, '3': 4 })])).scores);
  });

  it('a failed batch puts the candidate state back with the live one', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy: livePolicy, version: 'v1', tickMs: T });
    processor.shadowWith(candidate(0.3).slot);
    await processor.process(frames.slice(0, 8));
    const retried = await processor.process(frames.slice(8, 10));
    retried.rollback();
    const again = await processor.process(frames.slice(8, 10));
    expect(again.shadow).toEqual(retried.shadow);
  });

  it("a failed batch puts the candidate's stuck and jump statistics back by their undo logs", async () => {
    const watching = testPolicy({
      threshold: 0.3,
      resolveThreshold: 0.24,
      stuck: { multiple: 5, minRepeats: 20, neighbourShare: 0.5 },
      jumps: { multiple: 10, quietTicks: 3 },
    });
    const slot = { ...candidate(0.3).slot, policy: watching };
    const processor = new FrameProcessor({ model: new FakeModel(), policy: livePolicy, version: 'v1', tickMs: T });
    processor.shadowWith(slot);
    await processor.process(frames.slice(0, 8));
    const statistics = () => {
      const held = processor['runtimes'].get('a')?.candidate;
      return { stuck: held?.stuck.toJSON(), jumps: held?.jumps.toJSON() };
    };
    const before = statistics();
    expect(Object.keys(before.jumps ?? {})).toEqual(['1', '2', '3']);
    const failed = await processor.process(frames.slice(8, 12));
    expect(statistics()).not.toEqual(before);
    failed.rollback();
    expect(statistics()).toEqual(before);
    // Delivered again, it ends as a run that never failed does.
    const again = await processor.process(frames.slice(8, 12));
    expect(again.shadow).toEqual(failed.shadow);
    const reference = new FrameProcessor({ model: new FakeModel(), policy: livePolicy, version: 'v1', tickMs: T });
    reference.shadowWith({ ...candidate(0.3).slot, policy: watching });
    await reference.process(frames.slice(0, 8));
    await reference.process(frames.slice(8, 12));
    const referenceHeld = reference['runtimes'].get('a')?.candidate;
    expect(statistics()).toEqual({ stuck: referenceHeld?.stuck.toJSON(), jumps: referenceHeld?.jumps.toJSON() });
  });

  it('silences apply to the episodes it opens; its points keep them', () => {
    const scores = [
      {
        network: 'lab',
        cluster: 'c1',
        node: '7',
        tick: 1,
        model: 'v9',
        probability: 0.9,
        isAnomaly: true,
        alertStarted: true,
      },
    ];
    expect(gateShadowStarts(scores, [FIRING_ALERT], () => [])).toEqual([]);
    expect(scores[0].alertStarted).toBe(false);
    expect(shadowPoints(scores)).toEqual([
      {
        measurement: 'shadow',
        tags: { network: 'lab', node: '7', model: 'v9' },
        fields: { probability: 0.9, is_anomaly: true, alert_started: false },
        timestamp: 1,
      },
    ]);
  });
});
