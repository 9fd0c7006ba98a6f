import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.ts';
import { MemoryTransport } from '../../../transport/index.ts';

describe('a keyed table on the in-process transport', () => {
  it('keeps the newest value per key across partitions and forgets deleted keys', async () => {
    const transport = new MemoryTransport({ maxBatchSize: 2, logger: createLogger('test', 'silent') });
    const table = transport.table({ topic: 'state', partitions: 3 });
    expect(await table.readToEnd()).toEqual(new Map());
    await table.put([
      { key: 'a', value: 'a1' },
      { key: 'b', value: Buffer.from('b1') },
      { key: 'c', value: 'c1' },
    ]);
    await table.put([
      { key: 'a', value: 'a2' },
      { key: 'c', value: null },
    ]);
    const seen = await transport.table({ topic: 'state', partitions: 3 }).readToEnd();
    expect(Object.fromEntries([...seen].map(([key, value]) => [key, value.toString('utf8')]))).toEqual({
      a: 'a2',
      b: 'b1',
    });
    // Only the keys asked for, and a key deleted after a value stays deleted under the filter too.
    const kept = await table.readToEnd((key) => key !== 'b');
    expect(Object.fromEntries([...kept].map(([key, value]) => [key, value.toString('utf8')]))).toEqual({ a: 'a2' });
    expect(transport.partitionCount('state')).toBe(3);
    await table.close();
  });
});
