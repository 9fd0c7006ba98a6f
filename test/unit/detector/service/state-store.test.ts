import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../common/log.ts';
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  type ClusterCheckpoint,
} from '../../../../detector/state/checkpoint.ts';
import { TableCheckpointStore } from '../../../../detector/state/store.ts';
import { MemoryTransport } from '../../../../transport/index.ts';
import { sampleCheckpoint } from '../state/sample-checkpoint.ts';

const logger = createLogger('test', 'silent');

function checkpoint(cluster: string, lastTick: number): ClusterCheckpoint {
  return sampleCheckpoint({
    cluster,
    lastTick,
    state: {
      windows: Float32Array.from({ length: 12 }, (_, i) => i / 7),
      hidden: Float32Array.from([0.1, -0.2, 1e-8, 3.5]),
    },
    alerts: { '1': { above: 1, aboveSince: lastTick, clear: 0, firing: null } },
  });
}

describe('cluster checkpoints', () => {
  it('the in-process state topic returns the newest checkpoint per cluster', async () => {
    const transport = new MemoryTransport({ maxBatchSize: 2, logger });
    const store = new TableCheckpointStore(transport.table({ topic: 'state', partitions: 1 }), logger);
    expect(await store.loadAll()).toEqual(new Map());
    await store.save([checkpoint('a', 1000), checkpoint('b', 1000)]);
    await store.save([checkpoint('a', 2000)]);
    await store.save([checkpoint('a', 3000), checkpoint('c', 500)]);
    const all = await store.loadAll();
    expect([...all.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(all.get('a')).toEqual(checkpoint('a', 3000));
    await store.close();
  });

  it('skips an unreadable message on the state topic instead of failing the restore', async () => {
    const transport = new MemoryTransport({ logger });
    const store = new TableCheckpointStore(transport.table({ topic: 'state', partitions: 1 }), logger);
    await store.save([checkpoint('a', 1000)]);
    const producer = await transport.producer();
    await producer.send('state', [{ key: 'b', value: '{"format":"something else"}' }]);
    expect([...(await store.loadAll()).keys()]).toEqual(['a']);
  });

  it('rejects checkpoints whose arrays do not fit their shape, saying which', () => {
    const good = JSON.parse(encodeCheckpoint(checkpoint('a', 1))) as { state: { hidden: string } };
    good.state.hidden = Buffer.from(new Float32Array(3).buffer).toString('base64');
    expect(() => decodeCheckpoint(JSON.stringify(good))).toThrow(/hidden has 3 values, expected 4/);
    expect(() => decodeCheckpoint('{')).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(JSON.stringify({ ...checkpoint('a', 1), lastTick: 'x' }))).toThrow(/lastTick/);
  });
});
