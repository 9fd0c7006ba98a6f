import { afterEach, describe, expect, it } from 'vitest';
import { encodeFeedback, type Feedback } from '../../../../common/feedback.ts';
import { createLogger } from '../../../../common/log.ts';
import type { AlertPolicy } from '../../../../detector/alerts/tracker.ts';
import { followFeedback, type FollowedFeedback } from '../../../../detector/feedback/follow.ts';
import { NodeThresholds, thresholdRaises } from '../../../../detector/feedback/thresholds.ts';
import { FrameProcessor } from '../../../../detector/service/processor.ts';
import { MemoryTransport } from '../../../../transport/memory.ts';
import { FakeModel, frameOf } from '../service/fake-model.ts';

const T = 31_000;
const NOW = Date.UTC(2026, 2, 1, 12);
const DAY = 86_400_000;
const SETTINGS = { margin: 0.02, maxThreshold: 0.99, expireAfterMs: 7 * DAY };

function mark(overrides: Partial<Feedback> = {}): Feedback {
  return {
    alertId: 'lab/a/1',
    network: 'lab',
    cluster: 'a',
    node: '1',
    kind: 'anomaly',
    modality: 'temperature',
    verdict: 'false',
    probability: 0.6,
    alertStartsAt: NOW - DAY,
    note: '',
    author: 'ana',
    markedAt: NOW,
    ...overrides,
  };
}

describe('threshold raises from feedback', () => {
  it('a false alarm raises its node and modality to a bit above its peak, bounded and until it expires', () => {
    const [raise] = thresholdRaises([mark()], SETTINGS, NOW);
    expect(raise).toMatchObject({ network: 'lab', node: '1', modality: 'temperature', alertId: 'lab/a/1' });
    expect(raise.threshold).toBeCloseTo(0.62, 10);
    expect(raise.until).toBe(NOW + 7 * DAY);
    expect(thresholdRaises([mark({ probability: 0.999 })], SETTINGS, NOW)[0].threshold).toBe(0.99);
    expect(thresholdRaises([mark()], SETTINGS, NOW + 7 * DAY)).toEqual([]);

    const lookup = new NodeThresholds(thresholdRaises([mark()], SETTINGS, NOW));
    expect(lookup.thresholdFor(0.5, 'lab', '1', 'temperature', NOW)).toBeCloseTo(0.62, 10);
    // Another modality, another node or network, or a base above the raise: the base.
    expect(lookup.thresholdFor(0.5, 'lab', '1', 'humidity', NOW)).toBe(0.5);
    expect(lookup.thresholdFor(0.5, 'lab', '2', 'temperature', NOW)).toBe(0.5);
    expect(lookup.thresholdFor(0.5, 'other', '1', 'temperature', NOW)).toBe(0.5);
    expect(lookup.thresholdFor(0.7, 'lab', '1', 'temperature', NOW)).toBe(0.7);
    // The lookup itself drops a raise that ran out.
    expect(lookup.thresholdFor(0.5, 'lab', '1', 'temperature', NOW + 7 * DAY)).toBe(0.5);
  });

  it('an alert naming no modality raises every alert of the node; the highest of several false alarms wins', () => {
    const raises = thresholdRaises(
      [mark({ modality: 'none', probability: 0.7 }), mark({ alertId: 'lab/b/1', cluster: 'b', probability: 0.8 })],
      SETTINGS,
      NOW,
    );
    const lookup = new NodeThresholds(raises);
    expect(lookup.thresholdFor(0.5, 'lab', '1', 'humidity', NOW)).toBeCloseTo(0.72, 10);
    expect(lookup.thresholdFor(0.5, 'lab', '1', 'temperature', NOW)).toBeCloseTo(0.82, 10);
  });

  it('a later true mark on the node ends its raises; an earlier one does not; a silent alert raises nothing', () => {
    const confirmed = mark({ alertId: 'lab/a/1', verdict: 'true', markedAt: NOW + 1 });
    expect(thresholdRaises([mark(), confirmed], SETTINGS, NOW + 2)).toEqual([]);
    const earlier = mark({ alertId: 'lab/b/1', verdict: 'true', markedAt: NOW - 1 });
    expect(thresholdRaises([earlier, mark()], SETTINGS, NOW)).toHaveLength(1);
    expect(thresholdRaises([mark({ kind: 'silent', modality: 'none' })], SETTINGS, NOW)).toEqual([]);
  });
});

describe('the detector following the feedback topic', () => {
  const policy: AlertPolicy = {
    threshold: 0.5,
    resolveThreshold: 0.25,
    alertAfterTicks: 2,
    resolveAfterTicks: 2,
    dashboardUrl: (n, node) => `http://dash/node/${n}/${node}`,
  };
  let transport: MemoryTransport;
  let followed: FollowedFeedback | undefined;
  afterEach(async () => {
    await followed?.close();
    await transport.close();
  });

  it('a marked false alarm stops repeating from the next tick, a strong fault still fires, a true mark resets it', async () => {
    transport = new MemoryTransport();
    const now = NOW;
    followed = await followFeedback({
      transport,
      settings: { ...SETTINGS, topic: 'wsn.feedback', refreshMs: 60_000 },
      logger: createLogger('test', 'silent'),
      now: () => now,
    });
    const feedback = followed;
    const processor = new FrameProcessor({
      model: new FakeModel(),
      policy: {
        ...policy,
        nodeThreshold: (network, node, modality) => feedback.thresholdFor(policy.threshold, network, node, modality),
      },
    });
    let tick = 0;
    /** Ticks of node 1 at temperature `hot` then back to 1 (probability about hot / 10, then 0.1): returns its firings. */
    const episode = async (hot: number, ticks = 6) => {
      const frames = [];
      for (let i = 0; i < ticks; i++) frames.push(frameOf('a', ++tick * T, { '1': hot, '2': 1 }));
      for (let i = 0; i < 6; i++) frames.push(frameOf('a', ++tick * T, { '1': 1, '2': 1 }));
      const result = await processor.process(frames);
      return result.alerts.filter((a) => a.node === '1' && a.status === 'firing');
    };
    await episode(1);
    const repeats = async () => (await episode(6)).length + (await episode(6)).length + (await episode(6)).length;
    expect(await repeats()).toBe(3);
    const [falseAlarm] = await episode(6);
    // Marked with the episode's peak (the steady probability of temperature 6).
    await feedback.book.put(mark({ alertId: falseAlarm.id, modality: falseAlarm.modality, probability: 0.6 }));
    expect(await repeats()).toBe(0);
    // A real fault on the same node, far above the false alarm's peak, still alerts.
    expect(await episode(20)).toHaveLength(1);
    await feedback.book.put(mark({ alertId: falseAlarm.id, verdict: 'true', markedAt: NOW + 1 }));
    expect(await repeats()).toBe(3);
  });

  it('a record that is not feedback is skipped, the others apply', async () => {
    transport = new MemoryTransport();
    const table = transport.table({ topic: 'wsn.feedback', partitions: 1 });
    await table.put([
      { key: 'junk', value: '{"alertId":1}' },
      { key: 'lab/a/1', value: encodeFeedback(mark()) },
    ]);
    followed = await followFeedback({
      transport,
      settings: { ...SETTINGS, topic: 'wsn.feedback', refreshMs: 60_000 },
      logger: createLogger('test', 'silent'),
      now: () => NOW,
    });
    expect(followed.book.all().map((f) => f.alertId)).toEqual(['lab/a/1']);
    expect(followed.thresholdFor(0.5, 'lab', '1', 'temperature')).toBeCloseTo(0.62, 10);
  });
});
