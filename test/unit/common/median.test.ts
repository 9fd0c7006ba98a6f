import { describe, expect, it } from 'vitest';
import { median, medianOfSorted } from '../../../common/median.ts';

describe('median', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4])).toBe(4);
  });

  it('is the mean of the two middle values of an even count', () => {
    expect(median([10, 1, 3, 4])).toBe(3.5);
    expect(median([2, -2])).toBe(0);
  });

  it('compares as numbers, not as text', () => {
    expect(median([10, 9, 100])).toBe(10);
  });

  it('is NaN for no values', () => {
    expect(median([])).toBeNaN();
  });

  it('leaves its argument as it was', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('medianOfSorted', () => {
  it('reads sorted values through the accessor, so one can be left out', () => {
    const sorted = [1, 2, 7, 8];
    expect(medianOfSorted(4, (i) => sorted[i])).toBe(4.5);
    // Without index 1 (the value 2): 1, 7, 8.
    expect(medianOfSorted(3, (i) => sorted[i < 1 ? i : i + 1])).toBe(7);
  });

  it('is NaN for a count of zero', () => {
    expect(medianOfSorted(0, () => 1)).toBeNaN();
  });
});
