import { describe, expect, it } from 'vitest';
import {
  FalseAlertBudget,
  budgetPriorOf,
  tailFromMoments,
  tailQuantile,
  type BudgetPrior,
} from '../../../../detector/alerts/false-alert-budget.ts';
import { ClusterAlerts, alertPolicyFromConfig, describeBudget } from '../../../../detector/alerts/tracker.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../../../detector/state/checkpoint.ts';
import { createRng } from '../../../../common/random.ts';
import { sampleCheckpoint } from '../state/sample-checkpoint.ts';
import { testPolicy } from './sample-alert.ts';

/** A validation of 100 excursions above 0.2 in 100,000 node-ticks, mean excess 0.45 logits, budget 1 per 50,000 node-ticks. */
const PRIOR: BudgetPrior = {
  level: 0.2,
  excursions: 100,
  ratePerNodeTick: 0.001,
  scale: 0.45,
  budgetPerNodeTick: 2e-5,
};
const STORED = 0.65;
const NODES = ['1', '2', '3', '4', '5', '6', '7', '8'];
const logit = (p: number): number => Math.log(p / (1 - p));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Healthy nodes' probabilities: mostly low, and every `every` ticks per node
 * an excursion whose peak is u plus an exponential excess of mean `excess`
 * logits, lasting 3 ticks.
 */
function healthyTicks(ticks: number, every: number, excess: number, seed = 1): Array<Map<string, number>> {
  const rng = createRng(seed);
  const u = logit(PRIOR.level);
  const out: Array<Map<string, number>> = [];
  const peaks = new Map<string, { left: number; p: number }>();
  for (let t = 0; t < ticks; t++) {
    const tick = new Map<string, number>();
    for (const node of NODES) {
      let run = peaks.get(node);
      if (!run && rng.next() < 1 / every)
        peaks.set(node, (run = { left: 3, p: sigmoid(u + 0.01 - excess * Math.log(1 - rng.next())) }));
      if (run) {
        tick.set(node, run.p);
        if (--run.left === 0) peaks.delete(node);
      } else tick.set(node, 0.05);
    }
    out.push(tick);
  }
  return out;
}

describe('tail of the excursion peaks', () => {
  it('is exponential (shape 0, scale = mean) when the variance is the mean squared, and heavier when it is larger', () => {
    expect(tailFromMoments(0.5, 0.25)).toEqual({ shape: 0, scale: 0.5 });
    const heavy = tailFromMoments(0.6, 0.8 * 0.8);
    expect(heavy.shape).toBeGreaterThan(0.1);
    expect(heavy.shape).toBeLessThanOrEqual(0.5);
    // A heavier tail puts the budget's level further out.
    expect(tailQuantile(heavy.shape, heavy.scale, 100)).toBeGreaterThan(tailQuantile(0, 0.6, 100));
    expect(tailQuantile(0, 0.5, 100)).toBeCloseTo(0.5 * Math.log(100), 10);
    expect(tailQuantile(0.2, 0.5, 1)).toBe(0);
  });
});

describe('FalseAlertBudget', () => {
  it('starts at the stored threshold and stays there while the stream is as quiet as the validation', () => {
    const budget = new FalseAlertBudget({ threshold: STORED, prior: PRIOR, halfLifeTicks: 1000 });
    expect(budget.threshold).toBe(STORED);
    // About one excursion per 1,000 node-ticks with the validation's mean excess: the rate it was calibrated on.
    for (const tick of healthyTicks(5000, 1000, 0.45)) budget.observe(tick);
    expect(budget.threshold).toBeLessThan(0.72);
    expect(budget.threshold).toBeGreaterThanOrEqual(STORED);
  });

  it('rises when healthy nodes make larger excursions more often than on the validation, and settles back when they calm down', () => {
    const budget = new FalseAlertBudget({ threshold: STORED, prior: PRIOR, halfLifeTicks: 1000 });
    for (const tick of healthyTicks(4000, 150, 1.2)) budget.observe(tick);
    const busy = budget.threshold;
    expect(busy).toBeGreaterThan(0.85);
    expect(busy).toBeLessThanOrEqual(0.99);
    for (const tick of healthyTicks(8000, 5000, 0.3, 2)) budget.observe(tick);
    expect(budget.threshold).toBeLessThan(busy - 0.1);
  });

  it('learns nothing from a node that stays far above the threshold (a real fault): its excursion is censored at the threshold', () => {
    const quiet = new FalseAlertBudget({ threshold: STORED, prior: PRIOR, halfLifeTicks: 1000 });
    const faulty = new FalseAlertBudget({ threshold: STORED, prior: PRIOR, halfLifeTicks: 1000 });
    const ticks = healthyTicks(3000, 1000, 0.45);
    ticks.forEach((tick, t) => {
      quiet.observe(tick);
      // Node 9 is faulty from tick 100 to 2000 at p 0.9999, and healthy (low) after.
      faulty.observe(new Map([...tick, ['9', t >= 100 && t < 2000 ? 0.9999 : 0.05]]));
    });
    expect(Math.abs(faulty.threshold - quiet.threshold)).toBeLessThan(0.03);
  });

  it("gives a node that makes many more excursions than its cluster a higher threshold of its own, and a quiet node the cluster's", () => {
    const budget = new FalseAlertBudget({ threshold: STORED, prior: PRIOR, halfLifeTicks: 1000 });
    const rng = createRng(3);
    const u = logit(PRIOR.level);
    for (const tick of healthyTicks(4000, 1000, 0.45)) {
      // Node 1 also makes an excursion of its own about every 60 ticks.
      if (rng.next() < 1 / 60) tick.set('1', sigmoid(u + 0.5 - Math.log(1 - rng.next())));
      budget.observe(tick);
    }
    expect(budget.nodeThreshold('1')).toBeGreaterThan(budget.threshold + 0.03);
    expect(budget.nodeThreshold('2')).toBeLessThanOrEqual(budget.threshold);
    expect(budget.nodeThreshold('2')).toBeGreaterThanOrEqual(STORED);
    // A node never seen takes the cluster's.
    expect(budget.nodeThreshold('new')).toBe(budget.threshold);
  });

  it('round-trips its state through JSON and a checkpoint', () => {
    const budget = new FalseAlertBudget({ threshold: STORED, prior: PRIOR, halfLifeTicks: 1000 });
    for (const tick of healthyTicks(2000, 150, 1.2)) budget.observe(tick);
    const restored = new FalseAlertBudget({ threshold: STORED, prior: PRIOR, halfLifeTicks: 1000 }, budget.toJSON());
    expect(restored.threshold).toBeCloseTo(budget.threshold, 12);
    const checkpoint = sampleCheckpoint({ alertBudget: budget.toJSON() });
    expect(decodeCheckpoint(Buffer.from(encodeCheckpoint(checkpoint))).alertBudget).toEqual(budget.toJSON());
    expect(decodeCheckpoint(Buffer.from(encodeCheckpoint(sampleCheckpoint()))).alertBudget).toBeUndefined();
  });
});

describe('budgetPriorOf', () => {
  it('reads the calibration a model stores, and nothing from a model without one', () => {
    const falseAlerts = { ...PRIOR, threshold: 0.6, perNodeDay: 0.05, tickMs: 31_000 };
    expect(budgetPriorOf({ metadata: { training: { validation: { falseAlerts } } } })).toEqual({
      prior: PRIOR,
      tickMs: 31_000,
    });
    expect(budgetPriorOf({ metadata: { training: { validation: {} } } })).toBeUndefined();
    expect(budgetPriorOf({})).toBeUndefined();
    expect(
      budgetPriorOf({ metadata: { training: { validation: { falseAlerts: { ...falseAlerts, level: 1.5 } } } } }),
    ).toBeUndefined();
  });
});

describe('the tracker with a false-alert budget', () => {
  const calibration = { prior: PRIOR, tickMs: 31_000 };
  const config = {
    detector: { alertAfterTicks: 2, resolveAfterTicks: 10 },
    dashboard: { publicUrl: 'http://dash' },
  };

  it("follows the budget only with the model's own threshold, never a user's", () => {
    const model = alertPolicyFromConfig(config, STORED, calibration);
    expect(model.falseAlertBudget?.halfLifeTicks).toBe(Math.round((12 * 3_600_000) / 31_000));
    expect(model.falseAlertBudget?.perNodeDay).toBeCloseTo(2e-5 * (86_400_000 / 31_000), 10);
    expect(describeBudget(model)).toContain('false alerts per node-day');
    const user = alertPolicyFromConfig(
      { ...config, detector: { ...config.detector, threshold: 0.7 } },
      STORED,
      calibration,
    );
    expect(user.falseAlertBudget).toBeUndefined();
    expect(describeBudget(user)).toBe('');
    expect(alertPolicyFromConfig(config, STORED).falseAlertBudget).toBeUndefined();
  });

  it('raises the threshold on a busy stream, so a healthy node at 0.8 no longer alerts, while a fault at 0.999 still does', () => {
    const policy = testPolicy({ threshold: STORED, resolveThreshold: STORED / 2, alertAfterTicks: 2 });
    const fixed = new ClusterAlerts('lab', 'c1', policy);
    const adaptive = new ClusterAlerts('lab', 'c1', {
      ...policy,
      falseAlertBudget: { prior: PRIOR, halfLifeTicks: 1000, perNodeDay: 0.05 },
    });
    const feed = (alerts: ClusterAlerts, tick: number, probabilities: Map<string, number>) =>
      alerts.observe(
        tick,
        [...probabilities].map(([node, probability]) => ({
          node,
          probability,
          reconstructionError: { temperature: 0.1 },
          silent: false,
        })),
      );
    let tick = 0;
    for (const probabilities of healthyTicks(4000, 150, 1.2)) {
      // Healthy excursions of a busy stream: both trackers see them; keep the nodes low around the check below.
      const low = new Map([...probabilities].map(([node, p]) => [node, Math.min(p, 0.6)]));
      feed(fixed, tick, low);
      feed(adaptive, tick, probabilities);
      tick += 1;
    }
    expect(adaptive.threshold()).toBeGreaterThan(0.85);
    expect(fixed.threshold()).toBe(STORED);
    const healthyPeak = new Map(NODES.map((node) => [node, node === '1' ? 0.8 : 0.05]));
    const fault = new Map(NODES.map((node) => [node, node === '2' ? 0.999 : 0.05]));
    const fired = (alerts: ClusterAlerts, probabilities: Map<string, number>) =>
      [0, 1, 2].flatMap(() => feed(alerts, tick++, probabilities)).map((alert) => alert.node);
    expect(fired(fixed, healthyPeak)).toEqual(['1']);
    expect(fired(adaptive, healthyPeak)).toEqual([]);
    expect(fired(adaptive, fault)).toEqual(['2']);
    expect(new ClusterAlerts('lab', 'c1', policy).budgetState()).toBeUndefined();
    expect(adaptive.budgetState()?.exposure).toBeGreaterThan(0);
  });

  it('a copy for a batch starts from the same budget and shares none of it: the original is untouched by what the copy sees', () => {
    const policy = {
      ...testPolicy({ threshold: STORED, resolveThreshold: STORED / 2, alertAfterTicks: 2 }),
      falseAlertBudget: { prior: PRIOR, halfLifeTicks: 1000, perNodeDay: 0.05 },
    };
    const original = new ClusterAlerts('lab', 'c1', policy);
    const observe = (alerts: ClusterAlerts, tick: number, p: number) =>
      alerts.observe(
        tick,
        NODES.map((node) => ({ node, probability: p, reconstructionError: { temperature: p }, silent: false })),
      );
    for (let tick = 0; tick < 50; tick++) observe(original, tick, tick % 7 === 0 ? 0.95 : 0.1);
    const before = structuredClone(original.budgetState());
    const copy = original.copy(policy);
    expect(copy.budgetState()).toEqual(before);
    for (let tick = 50; tick < 80; tick++) observe(copy, tick, 0.97);
    expect(copy.budgetState()).not.toEqual(before);
    expect(original.budgetState()).toEqual(before);
    expect(original.threshold()).toBe(new ClusterAlerts('lab', 'c1', policy, {}, before).threshold());
  });
});

describe('blame against each modality’s usual error', () => {
  it('names the modality furthest from its own usual error, not the one whose errors always run largest', () => {
    const policy = testPolicy({ threshold: 0.5, resolveThreshold: 0.25, alertAfterTicks: 2 });
    const usual = { temperature: 0.001, voltage: 0.05 };
    const odd = { temperature: 0.01, voltage: 0.06 };
    const track = (alerts: ClusterAlerts) => {
      let tick = 0;
      // An hour and more of a healthy 8-node cluster: voltage's errors run 50 times temperature's.
      for (let t = 0; t < 700; t++)
        alerts.observe(
          tick++,
          NODES.map((node) => ({ node, probability: 0.05, reconstructionError: usual, silent: false })),
        );
      const changes = [0, 1].flatMap(() =>
        alerts.observe(
          tick++,
          NODES.map((node) => ({
            node,
            probability: node === '3' ? 0.9 : 0.05,
            reconstructionError: node === '3' ? odd : usual,
            silent: false,
          })),
        ),
      );
      return changes.map((alert) => `${alert.node}:${alert.modality}`);
    };
    // Without a budget the raw errors decide (voltage's 0.06 > temperature's 0.01); with one, temperature is 10× its usual.
    expect(track(new ClusterAlerts('lab', 'c1', policy))).toEqual(['3:voltage']);
    const budget = { prior: PRIOR, halfLifeTicks: 100_000, perNodeDay: 0.05 };
    expect(track(new ClusterAlerts('lab', 'c1', { ...policy, falseAlertBudget: budget }))).toEqual(['3:temperature']);
  });
});
