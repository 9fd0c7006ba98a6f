/**
 * A topology follower survives a broker outage. The broker is this test's
 * own (a second KRaft instance on free loopback ports, started the way
 * `wsn-watch services up` starts Kafka), so stopping it disturbs nobody. The
 * outage lasts until kafkajs gives up and crashes the consumer; then kafkajs
 * restarts it (retriable crash) or the transport's supervisor rebuilds it
 * (transport/supervise.ts); the follower says it is not following while the
 * broker is down, follows again once it is back, and applies a version
 * published after the restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import { kafkaService } from '../../../ops/kafka/service.ts';
import { spawnDetached, stopProcess } from '../../../ops/process.ts';
import { probeKafka } from '../../../ops/probes.ts';
import type { Launch } from '../../../ops/service.ts';
import { applyChange, createTopology, loadTopology } from '../../../topology/index.ts';
import { TopologyFollower, TopologyPublisher } from '../../../topology/kafka.ts';
import { freePort } from '../../support/ports.ts';
import { waitFor } from '../../support/wait.ts';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ibrl = resolve(fileURLToPath(import.meta.url), '../../../../../shared/data/ibrl/node.txt');

describe('topology follower across a broker outage (own broker)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'wsn-follower-outage-'));
  let broker = '';
  let launch: Launch;
  let pid: number | null = null;
  let follower: TopologyFollower | undefined;
  let publisher: TopologyPublisher | undefined;
  const logger = createLogger('follower-outage', 'silent');

  const startBroker = async (): Promise<void> => {
    pid = await spawnDetached(launch);
    await waitFor(
      `the test broker on ${broker}`,
      async () => (await probeKafka(broker, 2_000)) !== undefined,
      180_000,
      250,
    );
  };
  const stopBroker = async (): Promise<void> => {
    if (pid !== null) await stopProcess(pid, 45_000);
    pid = null;
  };

  beforeAll(async () => {
    const [kafkaPort, kafkaControllerPort] = [await freePort(), await freePort()];
    const config = loadConfig({
      env: {
        WSN_STATE_DIR: stateDir,
        WSN_KAFKA_PORT: String(kafkaPort),
        WSN_KAFKA_CONTROLLER_PORT: String(kafkaControllerPort),
      },
    });
    broker = `127.0.0.1:${kafkaPort}`;
    launch = await kafkaService(config).prepare(() => undefined);
    await startBroker();
  }, 240_000);

  afterAll(async () => {
    await follower?.stop().catch(() => undefined);
    await publisher?.disconnect().catch(() => undefined);
    await stopBroker();
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);

  it('stops following when the broker goes away, follows again after it restarts, and applies a version published then', async () => {
    const topology = createTopology(loadTopology(ibrl), { edgeRule: { knn: 4 }, cluster: { maxSize: 12, seed: 1 } });
    publisher = new TopologyPublisher({ brokers: [broker], network: 'outage', logger });
    await publisher.connect();
    const first = await publisher.publish(topology);
    await publisher.disconnect();

    follower = new TopologyFollower({
      brokers: [broker],
      network: 'outage',
      logger,
    });
    await follower.start();
    await follower.waitFor((_t, v) => v === first.version, 90_000);
    expect(follower.health()).toMatchObject({ following: true, reason: null });

    await stopBroker();
    const noticed = await waitFor(
      'the follower to notice the outage',
      () => !follower!.health().following,
      240_000,
      250,
    );
    const outageReason = follower.health().reason;
    expect(outageReason).toMatch(/\S/);
    // Down a while longer: restarts keep failing and it keeps trying.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(follower.health().following).toBe(false);

    await startBroker();
    // kafkajs restarts its consumer by itself after a retriable crash; after a
    // non-retriable one the transport's supervisor builds a new one (health().restarts
    // counts those; test/unit/transport/supervise.test.ts drives that path).
    await waitFor('the follower to follow again', () => follower!.health().following, 180_000, 250);

    applyChange(topology, { kind: 'leave', id: '5' });
    publisher = new TopologyPublisher({ brokers: [broker], network: 'outage', logger });
    await publisher.connect();
    const second = await publisher.publish(topology);
    expect(second.version).not.toBe(first.version);
    const applied = await follower.waitFor((_t, v) => v === second.version, 90_000);
    expect(applied.network.graph.hasNode('5')).toBe(false);
    process.stderr.write(
      `follower-outage: outage noticed after ${noticed} ms (${outageReason}); consumer rebuilt by the supervisor ${follower.health().restarts} time(s)\n`,
    );
  }, 900_000);
});
