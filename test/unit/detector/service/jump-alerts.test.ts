import { describe, expect, it } from 'vitest';
import type { Alert, Frame } from '../../../../common/types.ts';
import { loadConfig } from '../../../../common/config.ts';
import { ReadingJumps } from '../../../../detector/alerts/jumps.ts';
import { alertPolicyFromConfig } from '../../../../detector/alerts/tracker.ts';
import { FrameProcessor } from '../../../../detector/service/processor.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../../../detector/state/checkpoint.ts';
import { testPolicy } from '../alerts/sample-alert.ts';
import { FakeModel, frameOf } from './fake-model.ts';

const T = 31_000;
// The fake model's probabilities stay below 0.3 here (temperatures under 3, the spike goes down): every alert is the jump path's.
const policy = testPolicy({ jumps: { multiple: 10, quietTicks: 3 } });
const NODES = ['1', '2', '3', '4', '5'];

/** A slow, smooth temperature per node with small wiggles. */
const usual = (n: number, t: number): number => 2 + 0.5 * Math.sin(t / 40 + n) + (((t * 7 + n * 3) % 5) - 2) / 100;

/** Ticks from..to-1 of cluster a; node 2 reads −3 °C at tick `spikeAt` (a one-reading spike). */
function frames(from: number, to: number, spikeAt = 300): Frame[] {
  return Array.from({ length: to - from }, (_, i) => {
    const t = from + i;
    return frameOf(
      'a',
      t * T,
      Object.fromEntries(NODES.map((node, n) => [node, n === 1 && t === spikeAt ? -3 : usual(n, t)])),
    );
  });
}

const transitions = (alerts: Alert[]) => alerts.map((a) => `${a.status} ${a.node} ${a.modality} @${a.startsAt / T}`);

describe('FrameProcessor: sudden jumps', () => {
  it('fires at the tick of a one-reading spike, on its node only, naming the modality', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy });
    const before = await processor.process(frames(0, 300));
    expect(before.alerts).toEqual([]);
    const spike = await processor.process(frames(300, 301));
    expect(transitions(spike.alerts)).toEqual(['firing 2 temperature @300']);
    expect(spike.alerts[0].kind).toBe('anomaly');
    expect(spike.scores[0].nodes.filter((n) => n.isAnomaly).map((n) => n.node)).toEqual(['2']);
    expect(Math.max(...spike.scores[0].nodes.map((n) => n.probability))).toBeLessThan(0.5);
    // The model sees nothing, so the alert resolves after the policy's clear ticks.
    const after = await processor.process(frames(301, 320));
    expect(after.alerts.map((a) => `${a.status} ${a.node} @${(a.endsAt ?? 0) / T}`)).toEqual(['resolved 2 @302']);
  });

  it('is off without the policy, and on by default in the configuration', async () => {
    const result = await new FrameProcessor({ model: new FakeModel(), policy: testPolicy() }).process(frames(0, 320));
    expect(result.alerts).toEqual([]);
    const config = loadConfig();
    expect(alertPolicyFromConfig(config).jumps).toEqual({ multiple: 10, quietTicks: 3 });
    const off = alertPolicyFromConfig({
      ...config,
      detector: { ...config.detector, jumps: { enabled: false, multiple: 10, quietTicks: 3 } },
    });
    expect(off.jumps).toBeUndefined();
  });

  it('a rolled-back batch leaves the jump statistics as they were (an undo log, not a copy)', async () => {
    const processor = new FrameProcessor({ model: new FakeModel(), policy });
    await processor.process(frames(0, 290));
    const before = processor.checkpoint('a').packedJumps;
    const failed = await processor.process(frames(290, 310));
    expect(transitions(failed.alerts)).toEqual(['firing 2 temperature @300', 'resolved 2 temperature @300']);
    expect(processor.checkpoint('a').packedJumps).not.toEqual(before);
    failed.rollback();
    expect(processor.checkpoint('a').packedJumps).toEqual(before);
    // Delivered again, it fires again, and ends as a run that never failed does.
    const again = await processor.process(frames(290, 310));
    expect(transitions(again.alerts)).toEqual(transitions(failed.alerts));
    const reference = new FrameProcessor({ model: new FakeModel(), policy });
    await reference.process(frames(0, 290));
    await reference.process(frames(290, 310));
    expect(processor.checkpoint('a').packedJumps).toEqual(reference.checkpoint('a').packedJumps);
  });

  it('continues from a checkpoint as an uninterrupted run would', async () => {
    const all = frames(0, 320);
    const reference = new FrameProcessor({ model: new FakeModel(), policy });
    await reference.process(all.slice(0, 250));
    const expected = await reference.process(all.slice(250));
    expect(transitions(expected.alerts)).toEqual(['firing 2 temperature @300', 'resolved 2 temperature @300']);

    const first = new FrameProcessor({ model: new FakeModel(), policy });
    await first.process(all.slice(0, 250));
    const checkpoint = decodeCheckpoint(Buffer.from(encodeCheckpoint(first.checkpoint('a'))));
    expect(new ReadingJumps(checkpoint.packedJumps).toJSON()['2']?.temperature?.seen).toBe(250);
    const second = new FrameProcessor({ model: new FakeModel(), policy });
    second.adoptCheckpoints(new Map([['a', checkpoint]]));
    const resumed = await second.process(all.slice(250));
    expect(resumed.alerts).toEqual(expected.alerts);
    expect(second.checkpoint('a').packedJumps).toEqual(reference.checkpoint('a').packedJumps);
  });

  it('continues from a checkpoint written before the packed form (JSON per node and modality)', async () => {
    const all = frames(0, 320);
    const reference = new FrameProcessor({ model: new FakeModel(), policy });
    await reference.process(all.slice(0, 250));
    const expected = await reference.process(all.slice(250));

    const first = new FrameProcessor({ model: new FakeModel(), policy });
    await first.process(all.slice(0, 250));
    const { packedJumps, ...rest } = first.checkpoint('a');
    const older = { ...rest, jumps: new ReadingJumps(packedJumps).toJSON() };
    const checkpoint = decodeCheckpoint(Buffer.from(encodeCheckpoint(older)));
    expect(checkpoint.packedJumps).toBeUndefined();
    const second = new FrameProcessor({ model: new FakeModel(), policy });
    second.adoptCheckpoints(new Map([['a', checkpoint]]));
    expect((await second.process(all.slice(250))).alerts).toEqual(expected.alerts);
    expect(second.checkpoint('a').packedJumps).toEqual(reference.checkpoint('a').packedJumps);
  });
});
