import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadIbrl, nearestIndex, parseMoteFile, readIbrlPositions, sampleEpochs } from '../../../sources/ibrl.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = path.resolve(repoRoot, '../shared/data/ibrl');

const line = (epoch: number, mote: string, t: number, light = ' 46.92'): string =>
  `2004-03-04 00:00:26.983691 ${epoch} ${mote} ${t} 35.8876${light} 2.65143`;

async function moteDir(files: Record<string, string[]>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ibrl-'));
  await mkdir(path.join(dir, 'readings'));
  for (const [id, lines] of Object.entries(files))
    await writeFile(path.join(dir, 'readings', `${id}.txt`), lines.join('\n') + '\n');
  return dir;
}

describe('parseMoteFile', () => {
  it('reads 8-field lines and 7-field lines without light', () => {
    const text = [line(10, '3', 20.5), line(11, '3', 20.6, ' '), ''].join('\n');
    const parsed = parseMoteFile(text, 'readings/3.txt', '3');
    expect(parsed.lines).toBe(2);
    expect(parsed.missingLight).toBe(1);
    expect(Array.from(parsed.epochs)).toEqual([10, 11]);
    expect(parsed.values[2]).toBeCloseTo(46.92);
    expect(Number.isNaN(parsed.values[6])).toBe(true);
    expect(parsed.values[7]).toBeCloseTo(2.65143);
  });

  it('skips bad lines and reports file, line and what was wrong, as the streaming reader does', () => {
    const text = [
      line(10, '3', 20.5),
      '2004-03-04 00:00:26 11 3 abc 35.8 46.9 2.6',
      '2004-03-04 00:00:26 x 3 20 35 46 2.6',
      line(12, '4', 20),
      '2004-03-04 00:00:26 10 3 20',
      line(13, '3', 20.7),
    ].join('\n');
    const parsed = parseMoteFile(text, 'readings/3.txt', '3');
    expect(Array.from(parsed.epochs)).toEqual([10, 13]);
    expect(parsed.badLines.map((issue) => `${issue.file}:${issue.line}`)).toEqual([
      'readings/3.txt:2',
      'readings/3.txt:3',
      'readings/3.txt:4',
      'readings/3.txt:5',
    ]);
    expect(parsed.badLines[0].message).toMatch(/temperature "abc" is not a number/);
    expect(parsed.badLines[1].message).toMatch(/epoch "x" is not an integer/);
    expect(parsed.badLines[2].message).toMatch(/moteid is "4" but the file is for mote 3/);
    expect(parsed.badLines[3].message).toMatch(/expected 8 fields/);
  });

  it('records physically impossible temperatures with their line', () => {
    const parsed = parseMoteFile([line(10, '3', 20), line(11, '3', 122.15)].join('\n'), 'f', '3');
    expect(parsed.implausibleTemperatures).toEqual([{ line: 2, epoch: 11, value: 122.15 }]);
  });

  it('sorts unsorted epochs', () => {
    const parsed = parseMoteFile([line(12, '3', 1), line(10, '3', 2)].join('\n'), 'f', '3');
    expect(Array.from(parsed.epochs)).toEqual([10, 12]);
    expect(parsed.values[0]).toBe(2);
  });
});

describe('alignment', () => {
  it('spaces sample epochs like numpy int16(linspace)', () => {
    const epochs = sampleEpochs(14285, 28675, 5000);
    expect(epochs).toHaveLength(5000);
    expect(epochs[0]).toBe(14285);
    expect(epochs[1]).toBe(14287); // 14285 + 2.8786
    expect(epochs[4999]).toBe(28675);
    expect(sampleEpochs(0, 10, 4)).toEqual([0, 3, 6, 10]);
  });

  it('finds the nearest epoch, ties and duplicates to the earliest', () => {
    const epochs = [10, 14, 14, 20];
    expect(nearestIndex(epochs, 0)).toBe(0);
    expect(nearestIndex(epochs, 11)).toBe(0);
    expect(nearestIndex(epochs, 12)).toBe(0); // tie 10 / 14 → earlier
    expect(nearestIndex(epochs, 13)).toBe(1);
    expect(nearestIndex(epochs, 15)).toBe(1); // first of the duplicates
    expect(nearestIndex(epochs, 17)).toBe(1); // tie 14 / 20
    expect(nearestIndex(epochs, 99)).toBe(3);
    expect(nearestIndex([], 5)).toBe(-1);
  });

  it('aligns each mote on its nearest reading and skips dropped and missing values', async () => {
    const dir = await moteDir({
      '1': [line(0, '1', 1), line(4, '1', 2), line(9, '1', 3)],
      '2': [line(5, '2', 7, ' '), line(6, '2', 99), line(10, '2', 8)],
      '18': [line(0, '18', 5)],
    });
    const data = await loadIbrl(dir, { firstEpoch: 0, lastEpoch: 9, samples: 4, modalities: ['temperature', 'light'] });
    expect(data.series.nodes).toEqual(['1', '2']);
    expect(data.sampleEpochs).toEqual([0, 3, 6, 9]);
    const value = (t: number, n: number, m: number): number => data.series.data[(t * 2 + n) * 2 + m];
    expect([0, 1, 2, 3].map((t) => value(t, 0, 0))).toEqual([1, 2, 2, 3]);
    // Mote 2: epoch 6's 99 °C is implausible and dropped, so samples come from epochs 5 and 10.
    expect([0, 1, 2, 3].map((t) => value(t, 1, 0))).toEqual([7, 7, 7, 8]);
    // Light: epoch 5 has none, so mote 2's light comes from epochs 6 and 10.
    expect(value(0, 1, 1)).toBeCloseTo(46.92);
    expect(data.report.implausibleTemperatures).toEqual([{ mote: '2', line: 2, epoch: 6, value: 99 }]);
    expect(data.report.excluded).toEqual(['18']);
    const kept = await loadIbrl(dir, { firstEpoch: 0, lastEpoch: 9, samples: 4, implausible: 'keep' });
    expect(kept.series.data[(2 * 2 + 1) * 3]).toBe(99);
  });

  it('reports a missing folder and unknown motes as user errors', async () => {
    await expect(loadIbrl(path.join(os.tmpdir(), 'no-such-ibrl-dir'))).rejects.toThrow(/cannot read/);
    const dir = await moteDir({ '1': [line(0, '1', 1)] });
    await expect(loadIbrl(dir, { motes: ['1', '7'] })).rejects.toThrow(/mote\(s\) 7/);
  });
});

describe('the shared IBRL excerpt', () => {
  it('loads 476,518 lines, 15,255 without light, 31 impossible temperatures, and the 51-mote paper series', async () => {
    const all = await loadIbrl(shared, { exclude: [] });
    expect(all.report.files).toBe(52);
    expect(all.report.lines).toBe(476_518);
    expect(all.report.missingLight).toBe(15_255);
    expect(all.report.implausibleTemperatures).toHaveLength(31);
    expect(new Set(all.report.implausibleTemperatures.map((b) => b.mote))).toEqual(new Set(['18']));
    expect(Math.min(...Object.values(all.report.linesPerMote))).toBe(5459);
    expect(Math.max(...Object.values(all.report.linesPerMote))).toBe(12_905);
    expect(all.series.nodes).not.toContain('5');

    const paper = await loadIbrl(shared);
    expect(paper.series.nodes).toHaveLength(51);
    expect(paper.series.nodes).not.toContain('18');
    expect(paper.series.steps).toBe(5000);
    expect(paper.series.modalities).toEqual(['temperature', 'humidity', 'voltage']);
    // The first sample of mote 1 is its reading at epoch 14285 (the README's example line).
    expect(paper.series.data[0]).toBeCloseTo(20.5666, 4);
    expect(paper.series.data[1]).toBeCloseTo(35.8876, 4);
    expect(paper.series.data[2]).toBeCloseTo(2.65143, 4);
    expect(paper.secondsPerEpoch).toBeGreaterThan(29);
    expect(paper.secondsPerEpoch).toBeLessThan(32);
  });

  it('reads the mote positions', async () => {
    const positions = await readIbrlPositions(shared);
    expect(positions.size).toBe(54);
    expect(positions.get('1')).toEqual({ x: 21.5, y: 23 });
  });
});
