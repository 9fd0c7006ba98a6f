import type { Config } from '../../../../common/config.ts';
import type { Logger } from '../../../../common/log.ts';
import { startDetectorService, type DetectorService } from '../../../../detector/service/service.ts';
import { TableCheckpointStore } from '../../../../detector/state/store.ts';
import type { MemoryResultStore } from '../../../../store/memory.ts';
import type { MemoryTransport } from '../../../../transport/index.ts';
import { FakeModel } from './fake-model.ts';

/**
 * A detector service replica on the in-process transport, scoring with the
 * fake model into `store`: group `detectors`, topics `frames`, `anomalies`,
 * `alerts`, state on `state`, no Alertmanager, no HTTP endpoint.
 */
export function startFakeDetector(options: {
  config: Config;
  transport: MemoryTransport;
  store: MemoryResultStore;
  framePartitions: number;
  logger: Logger;
  replicaId?: string;
}): Promise<DetectorService> {
  const { transport, logger } = options;
  return startDetectorService({
    config: options.config,
    transport,
    model: new FakeModel(),
    sink: options.store,
    checkpoints: new TableCheckpointStore(transport.table({ topic: 'state', partitions: 1 }), logger),
    groupId: 'detectors',
    topics: { frames: 'frames', anomalies: 'anomalies', alerts: 'alerts' },
    framePartitions: options.framePartitions,
    alertmanager: false,
    httpPort: null,
    ...(options.replicaId === undefined ? {} : { replicaId: options.replicaId }),
    logger,
  });
}
