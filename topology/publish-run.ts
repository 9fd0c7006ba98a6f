/**
 * `wsn-watch topology publish`: a topology sent to the compacted topology
 * topic (only the records that changed), with progress on a large network.
 */
import type { Config } from '../common/config.ts';
import { createLogger } from '../common/log.ts';
import type { PublishResult } from './publisher.ts';
import type { Topology } from './types.ts';

const logger = createLogger('topology');

/** Publishes `topology` as the configured network's; Kafka is loaded only here (topology/kafka.ts). */
export async function publishTopology(
  config: Config,
  topology: Topology,
  progress: (message: string) => void,
): Promise<PublishResult> {
  const { TopologyPublisher, kafkaConnection } = await import('./kafka.ts');
  let reported = 0;
  const publisher = new TopologyPublisher({
    ...kafkaConnection(config.kafka),
    network: config.network,
    logger,
    // A large network goes out in many requests: say how far it got, every 5 % or so.
    onProgress: (sent, total) => {
      if (sent === total || sent - reported >= total / 20) {
        reported = sent;
        progress(`publish: ${sent.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} records sent`);
      }
    },
  });
  await publisher.connect();
  try {
    return await publisher.publish(topology);
  } finally {
    await publisher.disconnect();
  }
}
