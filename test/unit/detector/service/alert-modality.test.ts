import { describe, expect, it } from 'vitest';
import type { Alert, Frame } from '../../../../common/types.ts';
import { FalseAlertBudget } from '../../../../detector/alerts/false-alert-budget.ts';
import { FrameProcessor } from '../../../../detector/service/processor.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../../../detector/state/checkpoint.ts';
import { testPolicy } from '../alerts/sample-alert.ts';
import { FakeModel } from './fake-model.ts';
import { labFrame, labNode } from '../lab-frame.ts';

const T = 31_000;
const NODES = ['1', '2', '3', '4', '5', '6'];

/** Cluster a's frame at tick t; `at(n, t)` gives the n-th node's temperature and humidity (FakeModel: p ≈ temperature / 10). */
function frames(from: number, to: number, at: (n: number, t: number) => [number, number]): Frame[] {
  return Array.from({ length: to - from }, (_, i) => {
    const t = from + i;
    return labFrame(
      t,
      NODES.map((node, n) => {
        const [temperature, humidity] = at(n, t);
        return labNode(node, { temperature, humidity });
      }),
    );
  });
}

const fired = (alerts: Alert[]) =>
  alerts.filter((a) => a.status === 'firing').map((a) => `${a.node} ${a.modality} @${a.startsAt / T}`);

/** A heavy prior whose tail meets the budget below 0.5: the threshold in force stays the policy's 0.5. */
const budget = {
  prior: { level: 0.3, excursions: 1e6, ratePerNodeTick: 0.01, scale: 0.2, budgetPerNodeTick: 0.005 },
  halfLifeTicks: 1e6,
  perNodeDay: 1,
};

describe('the modality an alert names on a small, young cluster', () => {
  it("names the modality furthest from its usual error after ten ticks of the cluster's nodes, not after an hour of a 50-node cluster", async () => {
    // Humidity's errors run 100 times temperature's everywhere (as a coarsely quantized voltage's do in IBRL and the simulator).
    const healthy = (n: number, t: number): [number, number] => [1.5 + ((n + t) % 5) / 10, 20];
    // From tick 40 node 3's temperature surges: its temperature error grows 40-fold, its humidity error not at all.
    const surge = (n: number, t: number): [number, number] => (n === 2 ? [9, 20] : healthy(n, t));
    const processor = new FrameProcessor({ model: new FakeModel(), policy: testPolicy({ falseAlertBudget: budget }) });
    const result = await processor.process([...frames(0, 40, healthy), ...frames(40, 50, surge)]);
    expect(fired(result.alerts)).toEqual(['3 temperature @40']);
    // Without a budget the raw errors name it (humidity's 4 against temperature's 0.81): what a young cluster named before.
    const raw = await new FrameProcessor({ model: new FakeModel(), policy: testPolicy() }).process([
      ...frames(0, 40, healthy),
      ...frames(40, 50, surge),
    ]);
    expect(fired(raw.alerts)).toEqual(['3 humidity @40']);
  });

  it('a checkpoint taken in the middle of the run keeps what names it', async () => {
    const healthy = (n: number, t: number): [number, number] => [1.5 + ((n + t) % 5) / 10, 20];
    const surge = (n: number, t: number): [number, number] => (n === 2 ? [9, 20] : healthy(n, t));
    const all = [...frames(0, 40, healthy), ...frames(40, 50, surge)];
    const policy = testPolicy({ falseAlertBudget: budget });
    const first = new FrameProcessor({ model: new FakeModel(), policy });
    await first.process(all.slice(0, 41));
    const checkpoint = decodeCheckpoint(Buffer.from(encodeCheckpoint(first.checkpoint('a'))));
    expect(checkpoint.alerts['3']?.named?.temperature).toBeGreaterThan(0);
    const second = new FrameProcessor({ model: new FakeModel(), policy });
    second.adoptCheckpoints(new Map([['a', checkpoint]]));
    expect(fired((await second.process(all.slice(41))).alerts)).toEqual(['3 temperature @40']);
  });

  it('only the naming: localization and thresholds weigh errors by their usual ones only after the longer warm-up', () => {
    const threshold = new FalseAlertBudget({
      threshold: 0.5,
      prior: budget.prior,
      halfLifeTicks: budget.halfLifeTicks,
    });
    const usual = { temperature: 0.02, humidity: 4 };
    for (let t = 0; t < 20; t++)
      threshold.observe(new Map(NODES.map((node) => [node, 0.1])), new Map(NODES.map((node) => [node, usual])));
    const odd = { temperature: 0.8, humidity: 4 };
    expect(threshold.relativeErrors(odd)).toEqual(odd);
    const named = threshold.blameErrors(odd);
    expect(named.temperature).toBeCloseTo(40, 6);
    expect(named.humidity).toBeCloseTo(1, 6);
    // Before ten ticks of the cluster's nodes, the raw errors still.
    const young = new FalseAlertBudget({ threshold: 0.5, prior: budget.prior, halfLifeTicks: budget.halfLifeTicks });
    for (let t = 0; t < 9; t++)
      young.observe(new Map(NODES.map((node) => [node, 0.1])), new Map(NODES.map((node) => [node, usual])));
    expect(young.blameErrors(odd)).toEqual(odd);
  });

  it('names a reading that has repeated far longer than usual, before the stuck path calls it stuck, for an alert the model fires', async () => {
    const policy = testPolicy({ stuck: { multiple: 10, minRepeats: 20, neighbourShare: 0.5 } });
    // Humidity changes every fourth tick (its usual run: 4); temperatures move at every tick.
    const healthy = (n: number, t: number): [number, number] => [
      1.5 + ((n + t) % 5) / 10,
      4 + ((Math.floor(t / 4) + n) % 5) / 10,
    ];
    // Node 1's humidity holds from tick 300; from tick 322 its temperature runs hot, and the model fires at tick 323:
    // the humidity has repeated 24 times then, 6 times its usual run (stuck only beyond 10 times).
    const fault = (n: number, t: number): [number, number] => {
      if (n !== 0) return healthy(n, t);
      return [t >= 322 ? 9 : healthy(0, t)[0], t >= 300 ? 4.5 : healthy(0, t)[1]];
    };
    const result = await new FrameProcessor({ model: new FakeModel(), policy }).process(frames(0, 330, fault));
    expect(fired(result.alerts)).toEqual(['1 humidity @322']);
    // The model's errors alone would blame temperature (0.81 against 0.2): without the stuck statistics it is named so.
    const without = await new FrameProcessor({ model: new FakeModel(), policy: testPolicy() }).process(
      frames(0, 330, fault),
    );
    expect(fired(without.alerts)).toEqual(['1 temperature @322']);
    // A reading within its usual runs names nothing: the same hot temperature with a moving humidity is temperature.
    const moving = (n: number, t: number): [number, number] =>
      n === 0 && t >= 322 ? [9, healthy(0, t)[1]] : healthy(n, t);
    const plain = await new FrameProcessor({ model: new FakeModel(), policy }).process(frames(0, 330, moving));
    expect(fired(plain.alerts)).toEqual(['1 temperature @322']);
  });
});
