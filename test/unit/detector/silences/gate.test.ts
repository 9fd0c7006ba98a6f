import { afterEach, describe, expect, it } from 'vitest';
import type { Silence } from '../../../../common/silences.ts';
import type { Alert } from '../../../../common/types.ts';
import { FrameProcessor } from '../../../../detector/service/processor.ts';
import { SilenceBook } from '../../../../detector/silences/book.ts';
import { SilenceGate } from '../../../../detector/silences/gate.ts';
import { MemoryTransport } from '../../../../transport/memory.ts';
import { FIRING_ALERT, firingNodes, testPolicy } from '../alerts/sample-alert.ts';
import { FakeModel, frameOf } from '../service/fake-model.ts';

const T = 31_000;
const NOW = Date.UTC(2026, 2, 1, 12);
const H = 3_600_000;
const policy = testPolicy();

function silence(overrides: Partial<Silence> = {}): Silence {
  return {
    id: 'sil-1',
    network: 'lab',
    node: '1',
    startsAt: NOW,
    endsAt: NOW + 2 * H,
    reason: 'battery swap',
    author: 'ana',
    createdAt: NOW,
    ...overrides,
  };
}

/** The processor, the silences book on an in-process compacted topic, and the gate, with a clock the test moves. */
async function harness() {
  const transport = new MemoryTransport();
  let now = NOW;
  const book = new SilenceBook({
    table: transport.table({ topic: 'wsn.silences', partitions: 1 }),
    refreshMs: 60_000,
    now: () => now,
  });
  await book.refresh();
  const gate = new SilenceGate(book);
  const processor = new FrameProcessor({ model: new FakeModel(), policy });
  /** Node 1 hot (temperature 20) on the hot ticks, else 1; node 2 always 1. */
  const frames = (from: number, to: number, hot: boolean) =>
    Array.from({ length: to - from + 1 }, (_, i) => frameOf('a', (from + i) * T, { '1': hot ? 20 : 1, '2': 1 }));
  const run = async (from: number, to: number, hot: boolean) => {
    const result = await processor.process(frames(from, to, hot));
    gate.markScores(result.scores, now);
    const outcome = gate.apply(result.alerts, processor.firingAlerts(), now, to * T);
    outcome.commit();
    return { ...outcome, tracker: result.alerts, scores: result.scores };
  };
  const setSilence = async (value: Silence) => {
    await book.put(value);
    await book.refresh();
  };
  return {
    transport,
    book,
    gate,
    processor,
    run,
    setSilence,
    advance: (ms: number) => (now += ms),
    now: () => now,
  };
}

let transports: MemoryTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.map((t) => t.close()));
  transports = [];
});

describe('silences between the alert tracker and the routes', () => {
  it('a silenced node is scored and marked, its alert suppressed; when the silence is expired early the alert fires', async () => {
    const h = await harness();
    transports.push(h.transport);
    await h.setSilence(silence());
    await h.run(1, 4, false);
    const during = await h.run(5, 8, true);
    // The tracker fired, the receivers hear nothing.
    expect(firingNodes(during.tracker)).toEqual(['1']);
    expect(during.alerts).toEqual([]);
    expect(during.suppressed.map((a) => [a.node, a.status])).toEqual([['1', 'firing']]);
    // Still scored: every tick of both nodes, node 1 anomalous and marked silenced, node 2 not silenced.
    expect(during.scores).toHaveLength(4);
    const last = Object.fromEntries(during.scores.at(-1)!.nodes.map((n) => [n.node, n]));
    expect(last['1']).toMatchObject({ isAnomaly: true, silenced: true });
    expect(last['2']).toMatchObject({ isAnomaly: false, silenced: false });
    expect(h.gate.visible(h.processor.firingAlerts(), h.now())).toEqual([]);
    expect(h.gate.heldAlerts().map((a) => a.node)).toEqual(['1']);

    // Expired early: the fault goes on, so the alert fires at the next batch, with the fault's own start.
    h.advance(10 * 60_000);
    await h.setSilence({ ...silence(), endsAt: h.now(), expiredAt: h.now() });
    const after = await h.run(9, 9, true);
    expect(after.alerts).toHaveLength(1);
    expect(after.alerts[0]).toMatchObject({ node: '1', status: 'firing', kind: 'anomaly', startsAt: 5 * T });
    expect(after.scores[0].nodes.find((n) => n.node === '1')!.silenced).toBe(false);
    expect(h.gate.visible(h.processor.firingAlerts(), h.now()).map((a) => a.node)).toEqual(['1']);
  });

  it('the silence running out by itself lets the alert fire too', async () => {
    const h = await harness();
    transports.push(h.transport);
    await h.setSilence(silence({ endsAt: NOW + 30 * 60_000 }));
    await h.run(1, 4, false);
    expect((await h.run(5, 8, true)).alerts).toEqual([]);
    h.advance(31 * 60_000);
    expect((await h.run(9, 9, true)).alerts.map((a) => [a.node, a.status])).toEqual([['1', 'firing']]);
  });

  it('an alert firing when a silence starts is resolved with reason "silenced"; a fault that clears during the silence is never heard of again', async () => {
    const h = await harness();
    transports.push(h.transport);
    await h.run(1, 4, false);
    const fired = await h.run(5, 8, true);
    expect(fired.alerts.map((a) => [a.node, a.status])).toEqual([['1', 'firing']]);

    await h.setSilence(silence());
    const started = await h.run(9, 9, true);
    expect(started.alerts).toEqual([
      expect.objectContaining({ node: '1', status: 'resolved', reason: 'silenced', endsAt: 9 * T, startsAt: 5 * T }),
    ]);
    expect(h.processor.firingAlerts().map((a) => a.node)).toEqual(['1']); // the tracker still holds it
    expect(h.gate.visible(h.processor.firingAlerts(), h.now())).toEqual([]); // but it is not re-sent
    expect((await h.run(10, 11, true)).alerts).toEqual([]);

    // The fault clears while silenced: the tracker resolves, the receivers (already told) hear nothing.
    const cleared = await h.run(12, 20, false);
    expect(cleared.tracker.map((a) => [a.node, a.status])).toEqual([['1', 'resolved']]);
    expect(cleared.alerts).toEqual([]);
    expect(h.gate.heldAlerts()).toEqual([]);
    h.advance(3 * H);
    expect((await h.run(21, 22, false)).alerts).toEqual([]);
  });

  it('a modality silence suppresses only alerts blamed on that modality', async () => {
    const h = await harness();
    transports.push(h.transport);
    await h.setSilence(silence({ modality: 'humidity' }));
    await h.run(1, 4, false);
    // Node 1's fault is in temperature: not covered.
    const during = await h.run(5, 8, true);
    expect(during.alerts.map((a) => [a.node, a.modality, a.status])).toEqual([['1', 'temperature', 'firing']]);
    // The point is still marked: a silence names the node.
    expect(during.scores.at(-1)!.nodes.find((n) => n.node === '1')!.silenced).toBe(true);
  });

  it('a silence of another network or node changes nothing', async () => {
    const h = await harness();
    transports.push(h.transport);
    await h.setSilence(silence({ network: 'other' }));
    await h.setSilence(silence({ id: 'sil-2', node: '2' }));
    await h.run(1, 4, false);
    expect((await h.run(5, 8, true)).alerts.map((a) => [a.node, a.status])).toEqual([['1', 'firing']]);
  });
});

describe('SilenceGate state', () => {
  const covering = (covered: boolean) => ({
    coveringAlert: () => (covered ? silence() : undefined),
    nodeSilenced: () => covered,
  });

  it('changes only on commit: a batch that fails and is redelivered is gated the same way', () => {
    const gate = new SilenceGate(covering(true));
    const firing: Alert[] = [FIRING_ALERT];
    const first = gate.apply([], firing, NOW, FIRING_ALERT.startsAt + T);
    const again = gate.apply([], firing, NOW, FIRING_ALERT.startsAt + T);
    expect(again.alerts).toEqual(first.alerts);
    expect(first.alerts).toEqual([expect.objectContaining({ status: 'resolved', reason: 'silenced' })]);
    first.commit();
    expect(gate.apply([], firing, NOW, FIRING_ALERT.startsAt + 2 * T).alerts).toEqual([]);
  });

  it('forgets a held alert whose cluster left this replica', () => {
    const gate = new SilenceGate(covering(true));
    gate.apply([FIRING_ALERT], [FIRING_ALERT], NOW, FIRING_ALERT.startsAt).commit();
    expect(gate.heldAlerts()).toHaveLength(1);
    gate.apply([], [], NOW, FIRING_ALERT.startsAt).commit();
    expect(gate.heldAlerts()).toEqual([]);
  });
});

describe('SilenceBook', () => {
  it('follows the table: a bad record is skipped, an expiry is seen at the next read', async () => {
    const transport = new MemoryTransport();
    transports.push(transport);
    const table = transport.table({ topic: 'wsn.silences', partitions: 1 });
    let now = NOW + 60_000;
    const book = new SilenceBook({ table, refreshMs: 60_000, now: () => now });
    const seen: number[] = [];
    book.onChange((all) => seen.push(all.length));
    await table.put([
      { key: 'sil-1', value: JSON.stringify(silence()) },
      { key: 'junk', value: '{"id":' },
    ]);
    await book.refresh();
    expect(book.all().map((s) => s.id)).toEqual(['sil-1']);
    expect(book.coveringAlert('lab', '1', 'temperature')?.id).toBe('sil-1');
    expect(book.nodeSilenced('lab', '2')).toBe(false);
    await table.put([{ key: 'sil-1', value: JSON.stringify({ ...silence(), endsAt: now, expiredAt: now }) }]);
    await book.refresh();
    expect(book.active()).toEqual([]);
    expect(book.all()).toHaveLength(1);
    now += H;
    await book.refresh(); // no change: no notice
    expect(seen).toEqual([1, 1]);
    await book.close();
  });
});
