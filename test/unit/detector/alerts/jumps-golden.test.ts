import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../../common/types.ts';
import { ReadingJumps, sizeWeightsOf, usualSize } from '../../../../detector/alerts/jumps.ts';

/**
 * A long fixed stream (60,000 ticks of 10 nodes: slow cycles, quantized readings, a noisier half of every 5,000 ticks,
 * spikes, missing, held and silent readings, a node away for 100 ticks), long enough for old sizes to fade and be
 * forgotten. The digest is of what the statistics answered on it when the weights were faded one by one at every
 * size (before they faded through a unit): every flagged reading, and each reading's usual sizes at the end.
 */
const DIGEST = 'f7b5785fbb1cc7f5f001cc38f77a16f9ddfa1dc719dc5958f8e91c9b37c0dd23';
const TICKS = 60_000;
const NODES = 10;
const MODALITIES = ['temperature', 'humidity'];

function answers(): string[] {
  let seed = 12345;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const jumps = new ReadingJumps();
  const lines: string[] = [];
  for (let t = 0; t < TICKS; t++) {
    const nodes: Frame['nodes'] = [];
    for (let n = 0; n < NODES; n++) {
      if (n === 7 && t > 30_000 && t < 30_100) continue;
      const r = random();
      const wiggle = (random() - 0.5) * 0.05 * (t % 5_000 < 2_500 ? 1 : 4);
      let temperature: number | null = Math.round((20 + n * 0.3 + Math.sin(t / 300) * 2 + wiggle) * 100) / 100;
      if (r < 0.002) temperature += (random() < 0.5 ? -1 : 1) * (1 + random() * 5);
      if (r > 0.995) temperature = null;
      const humidity = temperature === null ? null : Math.round((80 - temperature + (random() - 0.5) * 0.2) * 10) / 10;
      nodes.push({
        node: String(n),
        values: { temperature, humidity },
        staleTicks: r > 0.99 && r < 0.993 ? 1 : 0,
        silent: r > 0.98 && r < 0.982,
      });
    }
    const frame: Frame = { network: 'g', cluster: 'c', tick: t * 31_000, topologyVersion: 'v', nodes };
    const sudden = jumps.observe(
      frame,
      MODALITIES,
      nodes.map(() => undefined),
      { multiple: 10, quietTicks: 3 },
    );
    for (const [node, modality] of sudden) lines.push(`${t} ${node} ${modality}`);
  }
  for (const [node, readings] of Object.entries(jumps.toJSON()))
    for (const [modality, r] of Object.entries(readings)) {
      const usual = usualSize(sizeWeightsOf(r.jumps));
      const gap = usualSize(sizeWeightsOf(r.gapJumps));
      lines.push(
        `state ${node} ${modality} seen=${r.seen} step=${r.step} since=${r.sinceJump} usual=${usual} gap=${gap} low=${r.jumps.low} len=${r.jumps.weights.length}`,
      );
    }
  return lines;
}

describe('ReadingJumps on a long recorded stream', () => {
  it('answers as the statistics did when every weight was faded at every size', () => {
    const lines = answers();
    expect(lines.filter((line) => !line.startsWith('state'))).toHaveLength(1175);
    expect(
      createHash('sha256')
        .update(lines.join('\n') + '\n')
        .digest('hex'),
    ).toBe(DIGEST);
  });
});
