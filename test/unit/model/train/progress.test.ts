import { describe, expect, it } from 'vitest';
import { createProgressReporter } from '../../../../model/train/progress.ts';
import type { TrainProgress } from '../../../../model/train/train.ts';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  return { stream: { isTTY, write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream, lines };
}

const progress = (batch: number, validationLoss?: number): TrainProgress => ({
  phase: validationLoss === undefined ? 'train' : 'validate',
  epoch: 1,
  epochs: 3,
  batch,
  batches: 100,
  loss: 0.5,
  validationLoss,
  windowsPerSecond: 80,
  elapsedSeconds: batch,
  etaSeconds: 200,
});

describe('createProgressReporter', () => {
  it('writes a progress line every interval while an epoch runs when the stream is not a terminal', () => {
    const { stream, lines } = fakeStream(false);
    let clock = 0;
    const report = createProgressReporter(stream, 30, () => clock);
    for (let batch = 1; batch <= 100; batch++) {
      clock = batch * 1000; // one batch per second
      report(progress(batch));
    }
    report(progress(100, 0.3));
    // 100 s of batches at one line per 30 s, plus the epoch line.
    expect(lines.length).toBe(4);
    expect(lines.every((line) => line.endsWith('\n') && !line.includes('\r'))).toBe(true);
    expect(lines[0]).toMatch(/epoch 1\/3 .* loss 0\.5000 .*ETA 3m20s/);
    expect(lines[3]).toMatch(/val 0\.3000/);
  });

  it('redraws one bar in place on a terminal', () => {
    const { stream, lines } = fakeStream(true);
    const report = createProgressReporter(stream, 30, () => 0);
    report(progress(1));
    report(progress(2));
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => line.startsWith('\r'))).toBe(true);
  });
});
