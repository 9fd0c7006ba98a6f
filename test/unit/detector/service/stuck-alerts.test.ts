import { describe, expect, it } from 'vitest';
import type { Alert, Frame } from '../../../../common/types.ts';
import { StuckReadings } from '../../../../detector/alerts/stuck.ts';
import { alertPolicyFromConfig } from '../../../../detector/alerts/tracker.ts';
import { FrameProcessor } from '../../../../detector/service/processor.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../../../detector/state/checkpoint.ts';
import { testPolicy } from '../alerts/sample-alert.ts';
import { FakeModel, frameOf } from './fake-model.ts';

const T = 31_000;
// The fake model's probabilities stay below 0.4 for temperatures under 4: every alert here is the stuck path's.
const policy = testPolicy({ stuck: { multiple: 5, minRepeats: 20, neighbourShare: 0.5 } });

/** Temperatures between 1 and 3.9 in steps of 0.1 (the sensor's resolution), changing at every tick, different per node. */
const moving = (node: number, t: number): number => 1 + ((t + node * 7) % 29) / 10;

/** Ticks from..to-1 of cluster a with nodes 1-4; node 1 reads `stuck.value` from tick `stuck.from` to `stuck.to` - 1. */
function frames(from: number, to: number, stuck = { from: 100, to: 160, value: 0.5 }): Frame[] {
  return Array.from({ length: to - from }, (_, i) => {
    const t = from + i;
    const temperatures = Object.fromEntries(
      ['1', '2', '3', '4'].map((node, n) => [
        node,
        n === 0 && t >= stuck.from && t < stuck.to ? stuck.value : moving(n, t),
      ]),
    );
    return frameOf('a', t * T, temperatures);
  });
}

const transitions = (alerts: Alert[]) => alerts.map((a) => `${a.status} ${a.node} ${a.modality} @${a.startsAt / T}`);

describe('FrameProcessor: stuck readings', () => {
  it('alerts on a stuck node among moving neighbours, naming the modality, until its value moves again', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy });
    const result = await processor.process(frames(0, 200));
    // Stuck from tick 100: the 21st equal reading (tick 120) is stuck, the alert fires after two such ticks.
    expect(transitions(result.alerts)).toEqual(['firing 1 temperature @120', 'resolved 1 temperature @120']);
    const fired = result.alerts[0];
    expect(fired.kind).toBe('anomaly');
    const resolved = result.alerts[1];
    // It lasted as long as the fault: the value moves at tick 160, two clear ticks resolve it.
    expect(resolved.endsAt).toBe(161 * T);
    const anomalous = result.scores.flatMap((s) => s.nodes.filter((n) => n.isAnomaly).map(() => s.tick / T));
    expect(anomalous).toEqual(Array.from({ length: 40 }, (_, i) => 120 + i));
    expect(Math.max(...result.scores.flatMap((s) => s.nodes.map((n) => n.probability)))).toBeLessThan(0.5);
  });

  it('a rolled-back batch leaves the stuck statistics as they were (an undo log, not a copy)', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy });
    await processor.process(frames(0, 110));
    const before = processor.checkpoint('a').packedStuck;
    const failed = await processor.process(frames(110, 170));
    expect(transitions(failed.alerts)).toEqual(['firing 1 temperature @120', 'resolved 1 temperature @120']);
    expect(processor.checkpoint('a').packedStuck).not.toEqual(before);
    failed.rollback();
    expect(processor.checkpoint('a').packedStuck).toEqual(before);
    const again = await processor.process(frames(110, 170));
    expect(transitions(again.alerts)).toEqual(transitions(failed.alerts));
    const reference = new FrameProcessor({ model: new FakeModel(), policy });
    await reference.process(frames(0, 110));
    await reference.process(frames(110, 170));
    expect(processor.checkpoint('a').packedStuck).toEqual(reference.checkpoint('a').packedStuck);
  });

  it('a batch scored beside one not yet settled: each settles or rolls back on its own, and they share no cluster', async () => {
    const inCluster = (cluster: string, batch: Frame[]) => batch.map((frame) => ({ ...frame, cluster }));
    const processor = new FrameProcessor({ model: new FakeModel(), policy });
    await processor.process([...frames(0, 110), ...inCluster('b', frames(0, 110))]);
    const aBefore = processor.checkpoint('a');
    // Cluster a's batch is being delivered while cluster b's is scored.
    const a = await processor.process(frames(110, 170));
    const b = await processor.process(inCluster('b', frames(110, 170)), { besideUnsettled: true });
    expect(transitions(a.alerts)).toEqual(['firing 1 temperature @120', 'resolved 1 temperature @120']);
    expect(transitions(b.alerts)).toEqual(transitions(a.alerts));
    await expect(processor.process(frames(170, 171), { besideUnsettled: true })).rejects.toThrow(
      /cluster a is in a batch not settled yet/,
    );
    // b went through; a failed: a's stuck statistics go back although b's batch started and settled after it.
    b.settle();
    a.rollback();
    expect(processor.lastTick('a')).toBe(109 * T);
    expect(processor.checkpoint('a').packedStuck).toEqual(aBefore.packedStuck);
    expect(processor.lastTick('b')).toBe(169 * T);
    const reference = new FrameProcessor({ model: new FakeModel(), policy });
    await reference.process(frames(0, 170));
    expect(processor.checkpoint('b').packedStuck).toEqual(reference.checkpoint('a').packedStuck);
    // a comes again and ends as an uninterrupted run would.
    const again = await processor.process(frames(110, 170), { besideUnsettled: true });
    expect(transitions(again.alerts)).toEqual(transitions(a.alerts));
    again.settle();
    expect(processor.checkpoint('a').packedStuck).toEqual(reference.checkpoint('a').packedStuck);
    expect(processor.checkpoint('a').state).toEqual(reference.checkpoint('a').state);
  });

  it('is off without the policy: the model alone does not see the stuck node', async () => {
    const result = await new FrameProcessor({ model: new FakeModel(), policy: testPolicy() }).process(frames(0, 200));
    expect(result.alerts).toEqual([]);
    const off = alertPolicyFromConfig({
      detector: {
        alertAfterTicks: 2,
        resolveAfterTicks: 2,
        stuck: { enabled: false, multiple: 5, neighbourShare: 0.5 },
      },
      dashboard: { publicUrl: 'http://dash' },
    });
    expect(off.stuck).toBeUndefined();
  });

  it('continues from a checkpoint as an uninterrupted run would, and restores one written before it existed', async () => {
    const all = frames(0, 200);
    const reference = new FrameProcessor({ model: new FakeModel(), policy });
    await reference.process(all.slice(0, 110));
    const expected = await reference.process(all.slice(110));
    expect(expected.alerts).toHaveLength(2);

    const first = new FrameProcessor({ model: new FakeModel(), policy });
    await first.process(all.slice(0, 110));
    const checkpoint = decodeCheckpoint(Buffer.from(encodeCheckpoint(first.checkpoint('a'))));
    expect(new StuckReadings(checkpoint.packedStuck).toJSON()['1']?.temperature?.repeats).toBe(10);
    const second = new FrameProcessor({ model: new FakeModel(), policy });
    second.adoptCheckpoints(new Map([['a', checkpoint]]));
    const resumed = await second.process(all.slice(110));
    expect(resumed.alerts).toEqual(expected.alerts);
    expect(resumed.scores).toEqual(expected.scores);
    expect(second.checkpoint('a').packedStuck).toEqual(reference.checkpoint('a').packedStuck);

    // Written before the packed form (the runs as JSON per node and modality), it resumes the same.
    const { packedStuck, ...unpacked } = checkpoint;
    const jsonForm = decodeCheckpoint(
      encodeCheckpoint({ ...unpacked, stuck: new StuckReadings(packedStuck).toJSON() }),
    );
    expect(jsonForm.packedStuck).toBeUndefined();
    const fromJson = new FrameProcessor({ model: new FakeModel(), policy });
    fromJson.adoptCheckpoints(new Map([['a', jsonForm]]));
    expect((await fromJson.process(all.slice(110))).alerts).toEqual(expected.alerts);
    expect(fromJson.checkpoint('a').packedStuck).toEqual(reference.checkpoint('a').packedStuck);

    // A checkpoint without the field (an older one) restores; the runs are learnt afresh, so nothing is judged yet.
    const older = unpacked;
    expect(packedStuck).toBeDefined();
    const third = new FrameProcessor({ model: new FakeModel(), policy });
    third.adoptCheckpoints(
      new Map([['a', decodeCheckpoint(JSON.stringify({ ...older, state: checkpointState(older) }))]]),
    );
    const fresh = await third.process(all.slice(110));
    expect(fresh.alerts).toEqual([]);
  });
});

/** The checkpoint's model state as encodeCheckpoint writes it (base64 float arrays). */
function checkpointState(checkpoint: Parameters<typeof encodeCheckpoint>[0]): unknown {
  return (JSON.parse(encodeCheckpoint(checkpoint)) as { state: unknown }).state;
}
