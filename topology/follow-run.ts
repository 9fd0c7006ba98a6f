/**
 * `wsn-watch topology follow`: the configured network's topology followed on
 * the compacted topology topic, one line per new version, until the first
 * (`once`) or until SIGINT/SIGTERM.
 */
import type { Config } from '../common/config.ts';
import { createLogger } from '../common/log.ts';
import type { Topology } from './types.ts';

const logger = createLogger('topology');

export interface FollowTopologyFlags {
  /** Stop after the first complete topology. */
  once: boolean;
  /** With `once`: give up after this many seconds. */
  timeout: number;
}

export interface FollowTopologyOptions extends FollowTopologyFlags {
  /** Where what it is doing is said (the versions themselves go to stdout). */
  progress: (message: string) => void;
}

/** Follows the topology topic, printing each version on stdout; Kafka is loaded only here (topology/kafka.ts). */
export async function followTopology(config: Config, options: FollowTopologyOptions): Promise<void> {
  const { progress } = options;
  const { TopologyFollower, kafkaConnection } = await import('./kafka.ts');
  const follower = new TopologyFollower({
    ...kafkaConnection(config.kafka),
    network: config.network,
    logger,
  });
  const print = (t: Topology, version: string): void => {
    const sizes = [...t.clustering.clusters.values()].map((c) => c.members.size);
    process.stdout.write(
      `${new Date().toISOString()} network "${config.network}" version ${version}: ${t.network.graph.order} nodes, ${t.network.graph.size} edges, ${sizes.length} clusters (largest ${Math.max(0, ...sizes)})\n`,
    );
  };
  progress(`following ${config.network} on ${config.kafka.brokers.join(',')}`);
  if (options.once) {
    await follower.start();
    try {
      const t = await follower.waitFor(() => true, options.timeout * 1000);
      print(t, follower.currentVersion()!);
    } finally {
      await follower.stop();
    }
    return;
  }
  await follower.start(print);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await follower.stop();
}
