import { describe, expect, it } from 'vitest';
import { lowerBound } from '../../../common/lower-bound.ts';

describe('lowerBound', () => {
  it('finds the first value not below the one asked, the first of equal ones, and the end past them all', () => {
    const sorted = [1, 3, 3, 3, 7];
    expect(lowerBound(sorted, 0)).toBe(0);
    expect(lowerBound(sorted, 3)).toBe(1);
    expect(lowerBound(sorted, 4)).toBe(4);
    expect(lowerBound(sorted, 7)).toBe(4);
    expect(lowerBound(sorted, 8)).toBe(5);
    expect(lowerBound([], 1)).toBe(0);
    expect(lowerBound(Float64Array.from([0.5, 1.5]), 1)).toBe(1);
  });
});
