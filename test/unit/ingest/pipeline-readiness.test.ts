import { describe, it, expect } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../../common/config.ts';
import { NodeDirectory } from '../../../ingest/directory.ts';
import { startInProcessIngest } from '../../support/ingest.ts';
import { waitFor } from '../../support/wait.ts';

describe('ingest /readyz with an extra condition (the topology follower)', () => {
  it('fails while the condition gives a reason, logs the reason once per change, and recovers', async () => {
    const config = loadConfig({ env: { WSN_NETWORK: 'lab', WSN_INGEST_HTTP_PORT: '0' } });
    const directory = new NodeDirectory({
      network: 'lab',
      version: 'v1',
      clusters: [{ id: 'c', nodes: [{ id: '1', modalities: [] }] }],
    });
    const lines: Array<{ msg: string; reason?: string }> = [];
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => void (lines.push(JSON.parse(chunk.toString()) as { msg: string }), done()),
    });
    const logger = pino({ level: 'info' }, sink);
    let reason: string | null = null;
    const { transport, service } = await startInProcessIngest({
      config,
      directory,
      logger,
      notReadyReason: () => reason,
    });
    try {
      const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${service.httpPort}/readyz`)).status;
      await waitFor('/readyz 200 (partitions assigned)', async () => (await readyz()) === 200, 5_000, 20);
      expect(await readyz()).toBe(200);
      reason = 'topology follower: KafkaJSNonRetriableError: Failed to find group coordinator';
      expect(await readyz()).toBe(503);
      expect(await readyz()).toBe(503);
      reason = null;
      expect(await readyz()).toBe(200);
      await new Promise((r) => setTimeout(r, 20));
      const notReady = lines.filter((l) => l.msg === 'not ready');
      expect(notReady).toHaveLength(1);
      expect(notReady[0].reason).toBe('topology follower: KafkaJSNonRetriableError: Failed to find group coordinator');
      expect(lines.filter((l) => l.msg === 'ready again')).toHaveLength(1);
    } finally {
      await service.stop();
      await transport.close();
    }
  });
});
