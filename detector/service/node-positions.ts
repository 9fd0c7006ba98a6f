/**
 * Keeps Grafana's network map in step with the topology the detector follows:
 * writes the `node_position` measurement (store/node-positions.ts) for
 * every topology version. A failed write only costs the map its positions, so
 * it is logged and never stops scoring.
 */
import type { Logger } from '../../common/log.ts';
import { writeNodePositions, type PointWriter } from '../../store/node-positions.ts';
import { topologyView } from '../../topology/view.ts';
import type { Topology } from '../../topology/index.ts';

export class NodePositionPublisher {
  /** Writes run one after another, so an older layout never lands after a newer one. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: { writer: PointWriter; network: string; logger: Logger; now?: () => number }) {}

  /** Queues the positions of `topology`; resolves when written (or the failure was logged). */
  publish(topology: Topology, version: string): Promise<void> {
    const { writer, network, logger } = this.options;
    const time = (this.options.now ?? Date.now)();
    this.queue = this.queue.then(async () => {
      try {
        const written = await writeNodePositions(writer, topologyView(network, topology), time);
        logger.info({ version, nodes: written }, 'node positions written for the network map');
      } catch (error) {
        logger.warn(
          { version, err: (error as Error).message },
          'could not write node positions (the Grafana network map keeps the previous ones)',
        );
      }
    });
    return this.queue;
  }

  /** Waits for queued writes. */
  flush(): Promise<void> {
    return this.queue;
  }
}
