/**
 * The Alertmanager mirror of maintenance silences against the real
 * Alertmanager: creates one mirror per active or pending silence, expires the
 * extras that racing replicas made, expires a mirror when its silence ends
 * early, and never touches mirrors of another silences topic.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Silence } from '../../../common/silences.ts';
import {
  AlertmanagerSilenceMirror,
  mirrorComment,
  silenceMatchers,
} from '../../../detector/silences/alertmanager-mirror.ts';
import { config, uniqueId } from './harness.ts';

interface GettableSilence {
  id: string;
  status: { state: string };
  matchers: Array<{ name: string; value: string }>;
  comment: string;
}

const id = uniqueId();
const topic = `it.silences.${id}`;
const otherTopic = `it.silences.other.${id}`;
const network = `it-mirror-${id}`;
const now = Date.now();
const H = 3_600_000;
const base = config.alertmanager.url;

function silence(overrides: Partial<Silence>): Silence {
  return {
    id: 'sil-00000001',
    network,
    node: '12',
    startsAt: now - 60_000,
    endsAt: now + 2 * H,
    reason: 'battery swap',
    author: 'it-test',
    createdAt: now - 60_000,
    ...overrides,
  };
}

async function ours(): Promise<GettableSilence[]> {
  const response = await fetch(`${base}/api/v2/silences`);
  expect(response.status).toBe(200);
  return ((await response.json()) as GettableSilence[]).filter(
    (s) => s.status.state !== 'expired' && s.matchers.some((m) => m.name === 'network' && m.value === network),
  );
}

/** A mirror made by hand, as another replica (or another topic's detector) would. */
async function postMirror(s: Silence, mirrorTopic: string): Promise<string> {
  const response = await fetch(`${base}/api/v2/silences`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      matchers: silenceMatchers(s),
      startsAt: new Date(s.startsAt).toISOString(),
      endsAt: new Date(s.endsAt).toISOString(),
      createdBy: s.author,
      comment: mirrorComment(s, mirrorTopic),
    }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { silenceID: string }).silenceID;
}

afterAll(async () => {
  for (const s of await ours()) await fetch(`${base}/api/v2/silence/${s.id}`, { method: 'DELETE' });
});

describe('Alertmanager mirror of maintenance silences (real Alertmanager)', () => {
  it('mirrors, deduplicates, expires, and leaves other topics alone', async () => {
    const mirror = new AlertmanagerSilenceMirror({ url: base, topic });
    const nodeWide = silence({});
    const humidity = silence({ id: 'sil-00000002', node: '7', modality: 'humidity', startsAt: now + H });
    const foreign = await postMirror(silence({ id: 'sil-0000ffff', node: '3' }), otherTopic);
    // Two replicas raced on the node-wide one.
    await postMirror(nodeWide, topic);
    await postMirror(nodeWide, topic);

    await mirror.reconcile([nodeWide, humidity], now);
    let live = await ours();
    const byComment = (s: Silence) => live.filter((m) => m.comment === mirrorComment(s, topic));
    expect(byComment(nodeWide)).toHaveLength(1);
    expect(byComment(nodeWide)[0].status.state).toBe('active');
    expect(byComment(humidity)).toHaveLength(1);
    expect(byComment(humidity)[0].status.state).toBe('pending');
    expect(byComment(humidity)[0].matchers.map((m) => `${m.name}=${m.value}`)).toEqual([
      `network=${network}`,
      'node=7',
      'modality=humidity',
    ]);

    // Reconciling again changes nothing.
    await mirror.reconcile([nodeWide, humidity], now);
    expect((await ours()).length).toBe(live.length);

    // Expired early here: expired there; a silence gone from the table too.
    await mirror.reconcile([{ ...nodeWide, endsAt: now, expiredAt: now }], now);
    live = await ours();
    expect(byComment(nodeWide)).toEqual([]);
    expect(byComment(humidity)).toEqual([]);
    // The other topic's mirror is untouched.
    expect(live.map((s) => s.id)).toEqual([foreign]);
  });

  it('an unreachable Alertmanager is logged, not thrown', async () => {
    const warnings: string[] = [];
    const logger = { warn: (_: unknown, message: string) => warnings.push(message), info: () => undefined };
    const mirror = new AlertmanagerSilenceMirror({
      url: 'http://127.0.0.1:9',
      topic,
      timeoutMs: 1_000,
      logger: logger as never,
    });
    await expect(mirror.reconcile([silence({})], now)).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('cannot mirror the silences to Alertmanager')]);
  });
});
