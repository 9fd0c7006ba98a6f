import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { InfluxSink } from '../../../store/influx-sink.ts';
import {
  makeFrames,
  NODES_PER_CLUSTER,
  scrapeMetric,
  uniqueId,
  useDetectorSuite,
  WINDOW,
} from '../detector/harness.ts';
import { waitFor } from '../../support/wait.ts';
import { scoredClusterTicks, type ScoredClusterTick } from '../../support/influx.ts';
import type { Frame } from '../../../common/types.ts';
import { ownInfluxdb, type OwnService } from './own-services.ts';

// Fault scenario "InfluxDB refuses some points for good": an InfluxDB of the
// suite's own whose limit of values per tag (InfluxDB's default is 100,000)
// the network outgrows. InfluxDB stores the rest of each write and answers
// 400 "partial write". Before, the detector retried the write, failed the
// batch and got it again, for ever (the refusal is for good): no batch with
// such a point was ever committed, nor its alerts sent (on that code this
// test waited 60 s for the frames to be processed; 15 batches failed). Now the refused points are logged and
// counted, and the detector goes on.

const TICKS = 12;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fault: InfluxDB refuses the points of nodes past its max-values-per-tag', () => {
  const id = uniqueId();
  let influxdb: OwnService;
  const suite = useDetectorSuite(`fault-influx-limit-${id}`, async () => await influxdb?.remove());

  beforeAll(async () => {
    influxdb = await ownInfluxdb({ maxValuesPerTag: NODES_PER_CLUSTER });
    await influxdb.start();
  });

  it('keeps scoring and storing the nodes under the limit, and logs and counts the refused points', async () => {
    const database = `wsn_fault_${id}`;
    // c0 (nodes 1-3) fills the limit; c1's nodes (x2-x4) are past it. InfluxDB checks the limit against
    // the values it had before a write, so c0 goes first.
    const frames = makeFrames(`fault-limit-${id}`, 2, 0, TICKS - 1).map((frame) =>
      frame.cluster === 'c0'
        ? frame
        : { ...frame, nodes: frame.nodes.map((node) => ({ ...node, node: `x${node.node}` })) },
    );
    const detector = await suite.start({
      id,
      group: `fault-influx-limit-${id}`,
      replicaId: 'd1',
      database,
      alertmanager: false,
      env: { WSN_INFLUX_URL: influxdb.address },
    });
    const sink = new InfluxSink({ url: influxdb.address, database, retries: 0 });
    const scoredTicks = async (): Promise<ScoredClusterTick[]> => [...(await scoredClusterTicks(sink)).values()];
    const metric = (name: string, labels = ''): Promise<number> => scrapeMetric(detector.port, name, labels);
    // Tick by tick, as ingest sends them: several batches.
    const send = async (batch: Frame[]) => {
      for (const frame of batch) {
        await suite.send(id, [frame]);
        await sleep(50);
      }
    };
    const c0 = frames.filter((frame) => frame.cluster === 'c0');
    const half = TICKS / 2;

    await send(c0.slice(0, half));
    await waitFor(
      'the first half of c0 scored in InfluxDB',
      async () => (await scoredTicks()).length === half - WINDOW + 1,
      120_000,
    );
    await send(frames.filter((frame) => frame.cluster === 'c1'));
    await send(c0.slice(half));
    await waitFor(
      'every frame processed',
      async () => (await metric('wsn_detector_frames_total', 'outcome="processed"')) === 2 * TICKS,
      60_000,
    );
    await waitFor(
      'every tick of c0 scored in InfluxDB',
      async () => (await scoredTicks()).length === TICKS - WINDOW + 1,
      30_000,
    );
    const refused = await metric('wsn_detector_sink_refused_points_total');
    const failedBatches = await metric('wsn_detector_batch_failures_total');
    detector.child.kill('SIGTERM');
    expect((await detector.exited).code).toBe(0);

    // Every point of c0, before and after c1's refusals; none of c1 (its readings of warm-up ticks included).
    const ticks = await scoredTicks();
    expect(ticks.map((tick) => [tick.cluster, tick.nodePoints])).toEqual(Array(TICKS - WINDOW + 1).fill(['c0', 3]));
    const stored = await sink.query<{ count: number }>(`SELECT COUNT("value_temperature") AS count FROM anomaly`);
    expect(stored[0]?.count).toBe(TICKS * NODES_PER_CLUSTER);
    expect(refused).toBe(TICKS * NODES_PER_CLUSTER);
    expect(failedBatches).toBe(0);
    const log = readFileSync(detector.logFile, 'utf8');
    expect(log).toContain('InfluxDB refused points of a write and stored the rest');
    expect(log).toContain('max-values-per-tag limit exceeded');
    process.stderr.write(
      `[fault suite] influxdb limit: ${2 * TICKS} frames processed; ${ticks.length} ticks of c0 in InfluxDB; ${refused} points of c1 refused; ${failedBatches} failed batches\n`,
    );
    await sink.dropDatabase();
  });
});
