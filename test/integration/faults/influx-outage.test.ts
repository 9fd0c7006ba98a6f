import { beforeAll, describe, expect, it } from 'vitest';
import type { ClusterScore, Frame } from '../../../common/types.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { makeFrames, NODES_PER_CLUSTER, uniqueId, useDetectorSuite, WINDOW } from '../detector/harness.ts';
import { sleepUntilElapsed, waitFor } from '../../support/wait.ts';
import { ownInfluxdb, type OwnService } from './own-services.ts';
import { scoredClusterTicks } from '../../support/influx.ts';

// Fault scenario "InfluxDB stopped for 60 s": the detector (`wsn-watch
// detect`, a child process) writes to an InfluxDB of the suite's own, which
// stops while frames keep coming. Its batches fail and are retried until
// InfluxDB is back. Every tick ends up once in InfluxDB and once on
// wsn.anomalies (before the fix, each retry published the batch's anomalies
// again: 1,053 messages for 559 ticks).

const OUTAGE_MS = 60_000;
const CLUSTERS = 2;
const TICKS = 60;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fault: InfluxDB stopped for 60 s under the detector', () => {
  const id = uniqueId();
  let influxdb: OwnService;
  const suite = useDetectorSuite(`fault-influx-${id}`, async () => await influxdb?.remove());
  const { transport } = suite;

  beforeAll(async () => {
    influxdb = await ownInfluxdb();
    await influxdb.start();
  });

  it('scores every tick once into InfluxDB and once onto wsn.anomalies', async () => {
    const database = `wsn_fault_${id}`;
    const frames = makeFrames(`fault-influx-${id}`, CLUSTERS, 0, TICKS - 1);
    const expectedTicks = CLUSTERS * (TICKS - WINDOW + 1);
    const detector = await suite.start({
      id,
      group: `fault-influx-${id}`,
      replicaId: 'd1',
      database,
      alertmanager: false,
      env: { WSN_INFLUX_URL: influxdb.address },
    });
    const sink = new InfluxSink({ url: influxdb.address, database, retries: 0 });
    const scored = async (): Promise<number> => (await scoredClusterTicks(sink)).size;
    const send = async (batch: Frame[]) => {
      for (const tick of [...new Set(batch.map((f) => f.tick))]) {
        await suite.send(
          id,
          batch.filter((f) => f.tick === tick),
        );
        await sleep(50);
      }
    };
    const tickAt = (k: number) => frames[0].tick + k * 31_000;

    // A third before the outage, a third during it, the rest after.
    await send(frames.filter((f) => f.tick < tickAt(20)));
    await waitFor('the first scores in InfluxDB', async () => (await scored()) > 0, 120_000);
    await influxdb.stop();
    const downAt = Date.now();
    await send(frames.filter((f) => f.tick >= tickAt(20) && f.tick < tickAt(40)));
    await sleepUntilElapsed(OUTAGE_MS, downAt);
    const downFor = Date.now() - downAt;
    await influxdb.start();
    await send(frames.filter((f) => f.tick >= tickAt(40)));
    await waitFor('every tick scored in InfluxDB', async () => (await scored()) >= expectedTicks, 240_000);
    detector.child.kill('SIGTERM');
    expect((await detector.exited).code).toBe(0);

    const perTick = await scoredClusterTicks(sink);
    const anomalies = new Map<string, number>();
    let messages = 0;
    const reader = await transport.subscribe({
      groupId: `fault-influx-reader-${id}`,
      topics: [`it.anomalies.${id}`],
      fromBeginning: true,
      onBatch: async (batch) => {
        for (const m of batch.messages) {
          messages++;
          const score = JSON.parse(m.value.toString()) as ClusterScore;
          anomalies.set(`${score.cluster}@${score.tick}`, (anomalies.get(`${score.cluster}@${score.tick}`) ?? 0) + 1);
        }
      },
    });
    await waitFor('the anomalies topic read back', () => anomalies.size >= expectedTicks, 60_000);
    await sleep(3_000);
    await reader.close();
    const log = (await import('node:fs')).readFileSync(detector.logFile, 'utf8');
    const failedBatches = log.split('\n').filter((line) => line.includes('onBatch failed')).length;
    process.stderr.write(
      `[fault suite] influxdb outage: down ${Math.round(downFor / 1000)} s; ${expectedTicks} cluster ticks expected; ${perTick.size} in InfluxDB (each with ${[...new Set([...perTick.values()].map((t) => t.nodePoints))].join('/')} node points); ${messages} messages on wsn.anomalies for ${anomalies.size} ticks; ${failedBatches} failed batch attempts\n`,
    );
    expect(perTick.size).toBe(expectedTicks);
    // Every node of every scored tick has its point: nothing of a batch that failed during the outage is missing.
    expect([...perTick.values()].every((tick) => tick.nodePoints === NODES_PER_CLUSTER)).toBe(true);
    expect(anomalies.size).toBe(expectedTicks);
    expect(messages).toBe(expectedTicks);
    expect(failedBatches).toBeGreaterThan(0); // the outage did hit the detector
    await sink.dropDatabase();
  });
});
