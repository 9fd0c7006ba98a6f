import { MemoryCheckpointStore } from '../../ingest/checkpoint.ts';
import { NodeDirectory } from '../../ingest/directory.ts';
import { startIngestService, type IngestService, type IngestServiceOptions } from '../../ingest/service.ts';
import { MemoryTransport } from '../../transport/memory.ts';

/**
 * The ingest service on a fresh in-process transport with in-memory
 * checkpoints; `options` give the rest (config, directory, logger, http …).
 */
export async function startInProcessIngest(
  options: Omit<IngestServiceOptions, 'transport' | 'checkpoints'>,
): Promise<{ transport: MemoryTransport; service: IngestService }> {
  const transport = new MemoryTransport({ retryBackoffMs: 5 });
  const service = await startIngestService({ ...options, transport, checkpoints: new MemoryCheckpointStore() });
  return { transport, service };
}

/** One cluster of a test network: its id, its node ids in order, the modalities every one of them reads. */
export type TestCluster = [cluster: string, nodes: readonly string[], modalities: readonly string[]];

/** The node directory of a test network whose nodes read the same modalities cluster by cluster. */
export function directoryOf(network: string, version: string, clusters: readonly TestCluster[]): NodeDirectory {
  return new NodeDirectory({
    network,
    version,
    clusters: clusters.map(([id, nodes, modalities]) => ({
      id,
      nodes: nodes.map((node) => ({ id: node, modalities: [...modalities] })),
    })),
  });
}
