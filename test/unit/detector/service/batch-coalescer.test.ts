import { describe, expect, it } from 'vitest';
import { BatchCoalescer } from '../../../../detector/service/batch-coalescer.ts';

/** A one-at-a-time job queue, as the detector service's. */
function jobQueue(): (job: () => Promise<void>) => Promise<void> {
  let queue: Promise<void> = Promise.resolve();
  return (job) => {
    const run = queue.then(job);
    queue = run.catch(() => undefined);
    return run;
  };
}

describe('BatchCoalescer', () => {
  it('runs the first batch at once and the ones handed over meanwhile together, answering each its own', async () => {
    const runs: string[][] = [];
    let release: () => void = () => undefined;
    const coalescer = new BatchCoalescer(jobQueue(), async (batches: string[]) => {
      runs.push(batches);
      if (runs.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return batches.map((batch) => `${batch} done`);
    });
    const first = coalescer.add('p0');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runs).toEqual([['p0']]);
    // While p0 is being processed, three more partitions hand over their batches.
    const later = ['p1', 'p2', 'p3'].map((batch) => coalescer.add(batch));
    release();
    expect(await first).toBe('p0 done');
    expect(await Promise.all(later)).toEqual(['p1 done', 'p2 done', 'p3 done']);
    expect(runs).toEqual([['p0'], ['p1', 'p2', 'p3']]);
  });

  it('lets batches handed over in the same turn of the event loop, one after another, join one run', async () => {
    const runs: string[][] = [];
    const coalescer = new BatchCoalescer(jobQueue(), async (batches: string[]) => (runs.push(batches), batches));
    const first = coalescer.add('p0');
    // As a consumer hands over the batches of one fetch: each after an await of its own.
    await Promise.resolve();
    const second = coalescer.add('p1');
    await Promise.resolve();
    const third = coalescer.add('p2');
    expect(await Promise.all([first, second, third])).toEqual(['p0', 'p1', 'p2']);
    expect(runs).toEqual([['p0', 'p1', 'p2']]);
  });

  it('lets a run take the batches handed over while it runs, answering them too, and runs nothing for them after', async () => {
    const runs: string[][] = [];
    let release: () => void = () => undefined;
    const coalescer = new BatchCoalescer(jobQueue(), async (batches: string[], more: () => string[]) => {
      runs.push([...batches]);
      if (runs.length === 1) {
        await new Promise<void>((resolve) => (release = resolve));
        batches.push(...more());
      }
      return batches.map((batch) => `${batch} done in run ${runs.length}`);
    });
    const first = coalescer.add('p0');
    await new Promise((resolve) => setTimeout(resolve, 10));
    const later = ['p1', 'p2'].map((batch) => coalescer.add(batch));
    release();
    expect(await first).toBe('p0 done in run 1');
    expect(await Promise.all(later)).toEqual(['p1 done in run 1', 'p2 done in run 1']);
    const next = coalescer.add('p3');
    expect(await next).toBe('p3 done in run 2');
    expect(runs).toEqual([['p0'], ['p3']]);
  });

  it('fails every batch of a failed run, and the next run goes on', async () => {
    let fail = true;
    const coalescer = new BatchCoalescer(jobQueue(), async (batches: string[]) => {
      if (fail) throw new Error(`sink down for ${batches.join(',')}`);
      return batches;
    });
    const failed = [coalescer.add('a'), coalescer.add('b')];
    await expect(failed[0]).rejects.toThrow('sink down for a,b');
    await expect(failed[1]).rejects.toThrow('sink down for a,b');
    fail = false;
    expect(await coalescer.add('a')).toBe('a');
  });
});
