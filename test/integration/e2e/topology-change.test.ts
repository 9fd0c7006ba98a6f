import { afterAll, describe, expect, it } from 'vitest';
import type { IncomingMessage } from '../../../common/transport.ts';
import type { Alert, Frame } from '../../../common/types.ts';
import { applyChange, createTopology, loadTopology, type Topology } from '../../../topology/index.ts';
import { TopologyPublisher } from '../../../topology/kafka.ts';
import { FIRST_EPOCH, LAST_EPOCH, SLICE_ALERTS as ALERTS } from './ibrl-slice.ts';
import { TICK_MS, type Pipeline } from './pipeline.ts';
import { publishedFrames, scoredTicks, useSlicePipeline } from './slice-fixture.ts';
import { waitFor } from '../../support/wait.ts';
import { readFileSync } from 'node:fs';

// A node added, one moved and one removed while IBRL flows through the live pipeline
// (`wsn-watch replay ibrl` → Kafka → `wsn-watch ingest` → Kafka → `wsn-watch detect` → InfluxDB,
// wsn.alerts, Alertmanager), both services following the network's topology on wsn.topology:
// no restart, no retraining.

const SPEED = String(31 * 50);
const HOUR = 3_600_000;
/** Rounds of the slice replayed before the new topology version is published. */
const CUT_ROUNDS = 120;
/**
 * The changed motes. The removed one shares its readings partition with another mote (47 and 45 hash
 * onto partition 0, see ibrl-slice.ts): the replay goes on sending the removed mote's readings, ingest
 * rejects them, and a partition that carried only rejected readings would hold the ingest watermark
 * until it is declared idle (30 minutes in the e2e pipeline).
 */
const ADDED = '48';
const MOVED = '40';
const REMOVED = '47';

const slice = useSlicePipeline();
const publishers: TopologyPublisher[] = [];
afterAll(async () => {
  for (const publisher of publishers) {
    await publisher.retract().catch(() => undefined);
    await publisher.disconnect();
  }
});

/** Until a child's log shows a line with both texts. */
async function logged(file: string, what: string, text: string, version: string): Promise<void> {
  await waitFor(`${what} in ${file}`, async () =>
    readFileSync(file, 'utf8')
      .split('\n')
      .some((line) => line.includes(text) && line.includes(version)),
  );
}

/** Scored ticks (probability written) of one node, oldest first. */
async function scoredTicksOf(p: Pipeline, node: string): Promise<number[]> {
  const rows = await p.query<{ time: Date }>(`SELECT "probability" FROM "anomaly" WHERE "node" = '${node}'`);
  return rows.map((row) => row.time.getTime()).sort((a, b) => a - b);
}

describe('topology changes without retraining (real Kafka, InfluxDB, Alertmanager)', () => {
  it('a node added, moved and removed: scored (or dropped) from the next tick, one topology alert per change in its first hour', async () => {
    const p = slice.open('topochange');
    const topology: Topology = createTopology(loadTopology(slice.data.nodeFile));
    const added = topology.network.graph.getNodeAttributes(ADDED);
    applyChange(topology, { kind: 'leave', id: ADDED });
    const publisher = new TopologyPublisher({ brokers: p.config.kafka.brokers, network: p.network });
    publishers.push(publisher);
    await publisher.connect();
    const v1 = await publisher.publish(topology);

    const ingest = await p.startIngestCli(null);
    const detector = await p.startDetector('d1', slice.model, ALERTS, { topology: true });
    await logged(detector.logFile, 'the detector on v1', 'topology applied', v1.version);

    await p.replay(slice.data.dir, [
      '--speed',
      SPEED,
      '--from-epoch',
      String(FIRST_EPOCH),
      '--to-epoch',
      String(FIRST_EPOCH + CUT_ROUNDS - 1),
    ]);
    await waitFor('the first part scored', async () => (await scoredTicks(p)) >= CUT_ROUNDS - 30, 120_000);

    // v2: mote 48 joins, mote 40 is moved 3 m, mote 36 leaves.
    applyChange(topology, { kind: 'join', node: { id: ADDED, ...added, modalities: [...added.modalities] } });
    const at = topology.network.graph.getNodeAttributes(MOVED);
    applyChange(topology, { kind: 'move', id: MOVED, position: { x: at.x + 3, y: at.y } });
    applyChange(topology, { kind: 'leave', id: REMOVED });
    const v2 = await publisher.publish(topology);
    expect(v2.version).not.toBe(v1.version);
    await logged(ingest.logFile, 'ingest on v2', 'ingest now uses the new topology', v2.version);
    await logged(detector.logFile, 'the detector on v2', 'topology applied', v2.version);

    await p.replay(slice.data.dir, [
      '--speed',
      SPEED,
      '--from-epoch',
      String(FIRST_EPOCH + CUT_ROUNDS),
      '--to-epoch',
      String(LAST_EPOCH),
    ]);
    // Three topology alerts fire at the change and resolve an hour of event time later. (One read of the
    // alerts topic: the test's reader group continues from its committed offsets on a second read.)
    const parse = (messages: IncomingMessage[]): Alert[] =>
      messages.map((message) => JSON.parse(message.value.toString('utf8')) as Alert);
    const transitions = parse(
      await p.readTopic(
        p.topics.alerts,
        (messages) => parse(messages).filter((a) => a.kind === 'topology' && a.status === 'resolved').length >= 3,
        240_000,
      ),
    );
    const alerts = transitions.filter((alert) => alert.kind === 'topology');

    // The change's first tick: the first frame ingest built against v2.
    const frames: Frame[] = (await publishedFrames(p)).sort((a, b) => a.tick - b.tick);
    const changeTick = Math.min(...frames.filter((f) => f.topologyVersion === v2.version).map((f) => f.tick));
    expect(Number.isFinite(changeTick)).toBe(true);
    const nodesOf = (frame: Frame): string[] => frame.nodes.map((node) => node.node);
    for (const frame of frames) {
      const v1Frame = frame.tick < changeTick;
      expect(frame.topologyVersion, `frame @${frame.tick}`).toBe(v1Frame ? v1.version : v2.version);
      expect(nodesOf(frame).includes(ADDED), `frame @${frame.tick}`).toBe(!v1Frame);
      expect(nodesOf(frame).includes(REMOVED), `frame @${frame.tick}`).toBe(v1Frame);
      expect(nodesOf(frame)).toContain(MOVED);
    }

    // Scored from its first tick: the added node has a verdict at the change tick and every tick after.
    const addedTicks = await scoredTicksOf(p, ADDED);
    const v2Ticks = frames.filter((f) => f.tick >= changeTick).map((f) => f.tick);
    expect(addedTicks[0]).toBe(changeTick);
    expect(addedTicks).toEqual(v2Ticks.slice(0, addedTicks.length));
    expect(addedTicks.length).toBeGreaterThan(100);
    // The moved node is scored on without a gap; the removed one stops at the tick before.
    expect(await scoredTicksOf(p, MOVED)).toContain(changeTick);
    const removedTicks = await scoredTicksOf(p, REMOVED);
    expect(removedTicks.at(-1)).toBe(changeTick - TICK_MS);

    // One alert per change, naming node, change and version, firing at the change's first tick
    // (well inside its first hour) and resolving on its own an hour of event time later.
    const firing = alerts.filter((alert) => alert.status === 'firing');
    expect(firing.map((alert) => `${alert.node} ${alert.change}`).sort()).toEqual(
      [`${REMOVED} removed`, `${MOVED} moved`, `${ADDED} added`].sort(),
    );
    for (const alert of firing) {
      expect(alert).toMatchObject({ kind: 'topology', network: p.network, topologyVersion: v2.version });
      expect(alert.startsAt).toBe(changeTick);
    }
    for (const alert of alerts.filter((a) => a.status === 'resolved')) {
      expect(alert.endsAt! - alert.startsAt).toBeGreaterThanOrEqual(HOUR);
      expect(alert.endsAt! - alert.startsAt).toBeLessThan(HOUR + 3 * TICK_MS);
    }
    // The new node, judged once warm, raised no anomaly alert.
    expect(transitions.filter((a) => a.kind === 'anomaly').map((a) => a.node)).not.toContain(ADDED);
  });
});
