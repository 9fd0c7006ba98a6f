import { MemoryCheckpointStore } from '../../ingest/checkpoint.ts';
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
