import type { InfluxDB } from 'influx';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../../common/random.ts';
import type { ClusterScore, Frame } from '../../../common/types.ts';
import { influxClient, type InfluxAuth } from '../../../store/influx-connection.ts';
import { pointLine, postLines } from '../../../store/influx-lines.ts';
import { batchLines } from '../../../store/influx-sink.ts';
import { batchPoints } from '../../support/anomaly-points.ts';
import type { ResultBatch } from '../../../store/sink.ts';

/** A client whose requests are recorded instead of sent (its pool is the one part replaced). */
function recordingClient(auth?: InfluxAuth): { client: InfluxDB; requests: object[] } {
  const client = influxClient('http://127.0.0.1:8086', 'wsn', auth);
  const requests: object[] = [];
  (client as unknown as { _pool: { discard(request: object): Promise<void> } })._pool.discard = (request) => {
    requests.push(request);
    return Promise.resolve();
  };
  return { client, requests };
}

/** Names that need escaping, sort in surprising places, or are plain. */
const NAMES = ['temperature', 'Humidity', 'a b', 'x,y', 'k=v', "back\\'quote", 'light', 'é', '_', 'voltage'];

function randomBatch(seed: number): ResultBatch {
  const random = createRng(seed);
  const rng = (): number => random.next();
  const pick = <T>(items: readonly T[]): T => random.pick(items);
  const value = (): number | null =>
    pick([null, Number.NaN, Number.POSITIVE_INFINITY, 0, -1.5, 3, 1e-9, 123456.789, rng() * 40 - 10]);
  const frames: Frame[] = [];
  const scores: ClusterScore[] = [];
  for (let f = 0; f < 4; f++) {
    const modalities = NAMES.filter(() => rng() < 0.4);
    const frame: Frame = {
      network: pick(['lab', 'my net', 'a,b=c']),
      cluster: pick(['c0', 'cluster 1', 'k=3']),
      tick: 1_700_000_000_000 + f * 31_000,
      topologyVersion: 'v1',
      nodes: Array.from({ length: 6 }, (_, i) => ({
        node: pick([`n${f}-${i}`, `node ${f},${i}`, `${f}=${i}`]),
        values: Object.fromEntries(modalities.filter(() => rng() < 0.8).map((m) => [m, value()])),
        staleTicks: 0,
        silent: false,
      })),
    };
    frames.push(frame);
    if (rng() < 0.25) continue; // a tick of the warm-up: readings only
    scores.push({
      network: frame.network,
      cluster: frame.cluster,
      tick: frame.tick,
      probability: rng(),
      ...(rng() < 0.7 ? { model: pick(['v3', 'models/my model']) } : {}),
      nodes: frame.nodes
        .filter(() => rng() < 0.8)
        .map((node) => ({
          node: node.node,
          probability: rng(),
          score: rng() * 10 - 2,
          isAnomaly: rng() < 0.3,
          reconstructionError: Object.fromEntries(modalities.map((m) => [m, value() ?? Number.NaN])),
          ...(rng() < 0.6 ? { reconstruction: Object.fromEntries(modalities.map((m) => [m, value() ?? 0])) } : {}),
          ...(rng() < 0.5 ? { silenced: rng() < 0.5 } : {}),
        })),
    });
  }
  return {
    frames,
    scores,
    alerts: [],
    pipeline: {
      network: 'lab net',
      source: 'detector',
      time: 1_700_000_100_000,
      frames: 4,
      skippedFrames: 0,
      clusters: 4,
      batchMs: 12.5,
      modelMs: 8,
      framesPerSecond: 320,
      eventLagMs: 1_500,
    },
    shadow: [
      {
        network: 'lab',
        cluster: 'c0',
        node: 'n 1',
        tick: 1_700_000_000_000,
        model: 'v4',
        probability: 0.25,
        isAnomaly: false,
        alertStarted: true,
      },
    ],
  };
}

describe('line protocol built by the sink', () => {
  it('is the text the influx client sends for the same points, names escaped and fields in its order', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const batch = randomBatch(seed);
      const { client, requests } = recordingClient({ username: 'writer', password: 'secret' });
      await client.writePoints(batchPoints(batch), { precision: 'ms', database: 'wsn' });
      await postLines(client, 'wsn', batchLines(batch).join('\n'));
      expect(requests).toHaveLength(2);
      expect(requests[1], `seed ${seed}`).toEqual(requests[0]);
    }
  });

  it('covers what escaping and sorting change (the comparison above is not vacuous)', () => {
    const lines = batchLines(randomBatch(3)).join('\n');
    expect(lines).toMatch(/\\ /);
    expect(lines).toMatch(/\\,/);
    expect(lines).toMatch(/\\=/);
    expect(lines).toContain('silenced=');
    expect(lines).toContain('model=');
    expect(lines).toMatch(/err_[^,]*=[^,]*,err_/); // two error fields of one node, in sorted order
  });

  it('a point with string and boolean fields, tags in the order given', () => {
    expect(
      pointLine({
        measurement: 'events',
        tags: { zone: 'north wing', id: '7' },
        fields: { note: 'say "hi"', ok: true, count: 3 },
        timestamp: 42,
      }),
    ).toBe('events,zone=north\\ wing,id=7 count=3,note="say \\"hi\\"",ok=true 42');
  });

  it('posts with no credentials when the client has none, as the client does', async () => {
    const { client, requests } = recordingClient();
    await client.writePoints([{ measurement: 'm', fields: { v: 1 }, timestamp: 5 }], {
      precision: 'ms',
      database: 'wsn',
    });
    await postLines(client, 'wsn', 'm v=1 5');
    expect(requests[1]).toEqual(requests[0]);
    expect(requests[1]).toMatchObject({ auth: undefined, query: { db: 'wsn', precision: 'ms' } });
  });
});
