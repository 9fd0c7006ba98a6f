import { describe, it, expect } from 'vitest';
import { chunkBySize } from '../../../transport/kafka.ts';

describe('chunkBySize', () => {
  it('splits into runs under the limit, keeps order, and sends an oversized item alone', () => {
    const sizes = [3, 3, 3, 10, 1, 1, 4];
    const chunks = chunkBySize(sizes, (n) => n, 6);
    expect(chunks).toEqual([[3, 3], [3], [10], [1, 1, 4]]);
    expect(chunks.flat()).toEqual(sizes);
    expect(chunkBySize([], (n: number) => n, 6)).toEqual([]);
  });
});
