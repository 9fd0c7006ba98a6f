import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../../common/types.ts';
import { dominatedNodes, type AlertPolicy } from '../../../../detector/alerts/tracker.ts';
import { FrameProcessor, type ProcessResult } from '../../../../detector/service/processor.ts';
import { testPolicy } from '../alerts/sample-alert.ts';
import { FakeModel } from './fake-model.ts';
import { labFrame, labNode } from '../lab-frame.ts';

const T = 31_000;

/** Cluster a's frame at tick t with each node's temperature and humidity (FakeModel: probability ≈ temperature / 10). */
function frame(t: number, readings: Record<string, [number, number]>): Frame {
  return labFrame(
    t,
    Object.entries(readings).map(([node, [temperature, humidity]]) => labNode(node, { temperature, humidity })),
  );
}

/** The live model and a candidate of the same model and policy, shadowing from the first frame. */
async function liveAndShadow(policy: AlertPolicy, frames: Frame[]): Promise<ProcessResult> {
  const processor = new FrameProcessor({ model: new FakeModel(), policy, version: 'v1', tickMs: T });
  processor.shadowWith({ version: 'v2', model: new FakeModel(), policy });
  return processor.process(frames);
}

/** Per node-tick, the live verdict and the shadow's. */
function verdictsOf(result: ProcessResult): { live: string[]; shadow: string[] } {
  const live = result.scores.flatMap((s) => s.nodes.map((n) => `${s.tick / T} ${n.node} ${n.isAnomaly}`));
  const shadow = result.shadow.map((s) => `${s.tick / T} ${s.node} ${s.isAnomaly}`);
  return { live, shadow };
}

/** A false-alert budget with a tiny allowance: healthy excursions soon raise the threshold (as in processor.test.ts). */
const quickBudget = testPolicy({
  falseAlertBudget: {
    prior: { level: 0.3, excursions: 1, ratePerNodeTick: 0.01, scale: 0.2, budgetPerNodeTick: 1e-4 },
    halfLifeTicks: 50,
    perNodeDay: 0.1,
  },
});

describe('one verdict step for the live model and a shadowing candidate', () => {
  it('the candidate raises a stuck alert with its own stuck-reading statistics, as the live path does', async () => {
    const policy = testPolicy({ stuck: { multiple: 5, minRepeats: 20, neighbourShare: 0.5 } });
    // Node 1's temperature stuck at 0.5 from tick 100 to 159; the others move at every tick (0.1 °C resolution).
    const moving = (n: number, t: number): number => 1 + ((t + n * 7) % 29) / 10;
    const frames = Array.from({ length: 200 }, (_, t) =>
      frame(
        t,
        Object.fromEntries(
          ['1', '2', '3', '4'].map((node, n) => [node, [n === 0 && t >= 100 && t < 160 ? 0.5 : moving(n, t), 4]]),
        ),
      ),
    );
    const result = await liveAndShadow(policy, frames);
    // The model scores the stuck node low: the alert is the stuck path's, in both.
    expect(result.alerts.map((a) => `${a.status} ${a.node} ${a.modality} @${a.startsAt / T}`)).toEqual([
      'firing 1 temperature @120',
      'resolved 1 temperature @120',
    ]);
    expect(result.shadowAlerts.map((a) => `${a.status} ${a.node} ${a.modality} @${a.startsAt / T}`)).toEqual([
      'firing 1 temperature @120',
    ]);
    const stuckTicks = result.shadow.filter((s) => s.isAnomaly).map((s) => `${s.node}@${s.tick / T}`);
    expect(stuckTicks).toEqual(Array.from({ length: 40 }, (_, i) => `1@${120 + i}`));
    expect(result.shadow.filter((s) => s.alertStarted).map((s) => `${s.node}@${s.tick / T}`)).toEqual(['1@121']);
    const { live, shadow } = verdictsOf(result);
    expect(shadow).toEqual(live);
  });

  it('the candidate localizes at its threshold in force, raised by its false-alert budget, as the live path does', async () => {
    // A heavy prior whose tail meets the budget near 0.77: the threshold in force stays well above the policy's 0.5.
    const policy = testPolicy({
      localizationRatio: 0.5,
      falseAlertBudget: {
        prior: { level: 0.3, excursions: 1e6, ratePerNodeTick: 0.1, scale: 0.3, budgetPerNodeTick: 1e-4 },
        halfLifeTicks: 1e6,
        perNodeDay: 0.1,
      },
    });
    // From tick 10 node 3 runs at p ≈ 0.88 with a small error and node 4 at p ≈ 0.953 with a large one.
    const frames = Array.from({ length: 30 }, (_, t) =>
      frame(t, {
        '1': [1 + (t % 3) / 10, 4],
        '2': [2, 4],
        '3': t >= 10 ? [8.8, 0] : [2, 4],
        '4': t >= 10 ? [9.53, 20] : [2, 4],
      }),
    );
    const processor = new FrameProcessor({ model: new FakeModel(), policy, version: 'v1', tickMs: T });
    processor.shadowWith({ version: 'v2', model: new FakeModel(), policy });
    const result = await processor.process(frames);
    const threshold = processor.alertThresholds().get('a') as number;
    expect(threshold).toBeGreaterThan(0.7);

    // At tick 20 both are steady: node 3 is above the threshold in force, but dominated by node 4 at it,
    // while at the policy's own 0.5 (where the shadow used to localize) it would not be.
    const tick20 = result.scores.find((s) => s.tick === 20 * T)?.nodes ?? [];
    const observations = tick20.map((n) => ({ ...n, silent: false }));
    const node3 = tick20.find((n) => n.node === '3');
    expect(node3?.probability).toBeGreaterThan(threshold);
    expect(dominatedNodes(observations, threshold, 0.5)).toEqual(new Set(['3']));
    expect(dominatedNodes(observations, policy.threshold, 0.5)).toEqual(new Set());

    const { live, shadow } = verdictsOf(result);
    expect(shadow).toEqual(live);
    expect(live.filter((v) => v.endsWith('true')).every((v) => v.split(' ')[1] === '4')).toBe(true);
    expect(result.shadow.filter((s) => s.node === '3' && s.tick >= 20 * T).every((s) => !s.isAnomaly)).toBe(true);
    expect(result.shadowAlerts.map((a) => a.node)).toEqual(['4']);
    expect(result.alerts.map((a) => a.node)).toEqual(['4']);
  });

  it("a failed batch puts the candidate's false-alert budget and stuck statistics back with its tracker", async () => {
    const frames = Array.from({ length: 40 }, (_, t) =>
      frame(t, { '1': [4 + (t % 12 === 0 ? 6 : 0), 4], '2': [2 + (t % 9 === 0 ? 6 : 0), 4], '3': [5.5, 4] }),
    );
    const processor = new FrameProcessor({ model: new FakeModel(), policy: quickBudget, version: 'v1', tickMs: T });
    processor.shadowWith({ version: 'v2', model: new FakeModel(), policy: quickBudget });
    await processor.process(frames.slice(0, 25));
    const retried = await processor.process(frames.slice(25));
    retried.rollback();
    const again = await processor.process(frames.slice(25));
    expect(again.shadow).toEqual(retried.shadow);
    expect(verdictsOf(again).shadow).toEqual(verdictsOf(again).live);
  });
});
