import { describe, it, expect } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createLogger } from '../../../common/log.ts';
import type { Frame } from '../../../common/types.ts';
import { NodeDirectory } from '../../../ingest/directory.ts';
import { Simulation, runSimulation } from '../../../sources/simulate.ts';
import { startInProcessIngest } from '../../support/ingest.ts';
import { waitFor } from '../../support/wait.ts';

describe('embedded mode: simulator → in-process transport → ingest → frames', () => {
  it('turns every simulated reading into the value of its node at its tick', async () => {
    const T = 31_000;
    const config = loadConfig({ env: { WSN_NETWORK: 'demo', WSN_PARTITION_IDLE_MS: '200' } });
    const simulation = new Simulation({
      nodes: 8,
      seed: 5,
      network: 'demo',
      tickMs: T,
      startTs: 55_000_000 * T,
      lossRate: 0,
    });
    const directory = new NodeDirectory({
      network: 'demo',
      version: 'demo-v1',
      clusters: [
        {
          id: 'all',
          nodes: simulation.nodes.map((n) => ({
            id: n.id,
            modalities: ['temperature', 'humidity', 'light', 'voltage'],
          })),
        },
      ],
    });
    const { transport, service } = await startInProcessIngest({
      config,
      directory,
      logger: createLogger('t', 'silent'),
      http: false,
    });
    const frames: Frame[] = [];
    const reader = await transport.subscribe({
      groupId: 'dashboard',
      topics: ['wsn.frames'],
      fromBeginning: true,
      onBatch: async (b) => void frames.push(...b.messages.map((m) => JSON.parse(m.value.toString()) as Frame)),
    });
    const producer = await transport.producer();
    const result = await runSimulation(simulation, { producer, ticks: 20, speed: Infinity });
    expect(result.sent).toBe(8 * 20);
    try {
      await waitFor('17 frames on wsn.frames', () => frames.length >= 17, 10_000, 20);
    } finally {
      await reader.close();
      await service.stop();
      await transport.close();
    }
    // watermark = last event time (in round 19, before 19.8 ticks) − 2 ticks: ticks 0…16 emitted
    expect(frames.map((f) => f.tick)).toEqual(Array.from({ length: 17 }, (_, k) => simulation.startTs + k * T));
    for (const [k, frame] of frames.entries()) {
      const round = simulation.round(k);
      for (const reading of round) {
        expect(frame.nodes.find((n) => n.node === reading.node)).toEqual({
          node: reading.node,
          values: reading.values,
          staleTicks: 0,
          silent: false,
        });
      }
    }
  });
});
