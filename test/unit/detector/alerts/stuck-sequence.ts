/**
 * A deterministic stream of six nodes' readings for the stuck-reading
 * statistics, with what those statistics answered on it recorded in
 * stuck-recorded.json (by record-stuck-sequence.ts): a continuous
 * temperature, a coarsely quantized voltage (long runs), a light dark for
 * hours at a time, lost and held readings, silent spells and stuck faults;
 * long enough (16,000 ticks) that the oldest runs fade out of the counts.
 */
import type { Frame } from '../../../../common/types.ts';
import type { StuckPolicy } from '../../../../detector/alerts/stuck.ts';
import type { StuckReadings } from '../../../../detector/alerts/stuck.ts';
import { labFrame } from '../lab-frame.ts';

export const SEQUENCE_TICKS = 16_000;
/** The tick whose state before it is recorded as a checkpoint, to continue from. */
export const CHECKPOINT_TICK = 8_000;
export const SEQUENCE_NODES = ['1', '2', '3', '4', '5', '6'];
export const SEQUENCE_MODALITIES = ['temperature', 'voltage', 'light'];
export const SEQUENCE_POLICY: StuckPolicy & { minRepeats: number } = {
  multiple: 5,
  minRepeats: 20,
  neighbourShare: 0.5,
};

/** mulberry32: a small seeded generator, so the sequence is the same on every machine. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Stuck faults: node, modality, first and last tick. */
const FAULTS = [
  { node: 2, modality: 'temperature', from: 1_200, to: 1_400 },
  { node: 4, modality: 'voltage', from: 2_500, to: 3_600 },
  { node: 0, modality: 'light', from: 4_100, to: 4_700 },
  { node: 5, modality: 'temperature', from: 5_300, to: 5_340 },
  { node: 1, modality: 'temperature', from: 15_000, to: 15_100 },
];

/** The sequence's frames, in tick order. */
export function sequenceFrames(): Frame[] {
  const random = generator(7);
  const held: Record<string, number>[] = SEQUENCE_NODES.map(() => ({}));
  return Array.from({ length: SEQUENCE_TICKS }, (_, t) => {
    const nodes = SEQUENCE_NODES.map((node, n) => {
      const day = Math.sin((2 * Math.PI * t) / 2_787 + n / 3);
      const fresh: Record<string, number | null> = {
        temperature: Math.round((21 + 3 * day + random() * 0.3) * 100) / 100,
        voltage: Math.round((2.7 - t / 40_000 + random() * 0.004) * 500) / 500,
        light: day < -0.3 ? 0 : Math.round(200 * (day + 0.3) + random() * 10),
      };
      for (const fault of FAULTS)
        if (fault.node === n && t >= fault.from && t <= fault.to)
          fresh[fault.modality] = held[n][fault.modality] ??= fresh[fault.modality] as number;
      for (const modality of SEQUENCE_MODALITIES) if (random() < 0.03) fresh[modality] = null;
      const silent = n === 3 && t % 1_000 >= 900;
      const staleTicks = random() < 0.02 ? 1 : 0;
      return { node, values: fresh, staleTicks, silent };
    });
    return labFrame(t, nodes);
  });
}

/** Node 1's neighbours are 2 and 3; the others take the rest of the cluster. */
export const SEQUENCE_NEIGHBOURS: ReadonlyArray<readonly string[] | undefined> = [
  ['2', '3'],
  ...Array(5).fill(undefined),
];

/** One tick's answer: the stuck modality per node, as "node modality" strings. */
export function observeTick(readings: StuckReadings, frame: Frame): string[] {
  const { stuck } = readings.observe(frame, SEQUENCE_MODALITIES, SEQUENCE_NEIGHBOURS, SEQUENCE_POLICY);
  return [...stuck].map(([node, modality]) => `${node} ${modality}`);
}

/** What the statistics answered on the sequence: stuck ranges per reading, and each change of a usual run. */
export interface SequenceTrace {
  /** "node modality first-last" per stretch of consecutive stuck ticks. */
  stuck: string[];
  /** "tick node modality usual" whenever a reading's usual run changed (undefined while not learnt). */
  usual: string[];
}

/** Feeds `frames` (the sequence from tick `from` on) and traces the answers; `usualOf` asks for a usual run. */
export function traceSequence(
  readings: StuckReadings,
  frames: readonly Frame[],
  from: number,
  usualOf: (node: string, modality: string) => number | undefined,
): SequenceTrace {
  const open = new Map<string, { first: number; last: number }>();
  const stuck: string[] = [];
  const usual: string[] = [];
  const last = new Map<string, string>();
  const close = (key: string): void => {
    const range = open.get(key) as { first: number; last: number };
    stuck.push(`${key} ${range.first}-${range.last}`);
    open.delete(key);
  };
  frames.forEach((frame, i) => {
    const t = from + i;
    const now = new Set(observeTick(readings, frame));
    for (const key of open.keys()) if (!now.has(key)) close(key);
    for (const key of now) {
      const range = open.get(key);
      if (range) range.last = t;
      else open.set(key, { first: t, last: t });
    }
    for (const node of SEQUENCE_NODES)
      for (const modality of SEQUENCE_MODALITIES) {
        const key = `${node} ${modality}`;
        const value = String(usualOf(node, modality));
        if (last.get(key) !== value) usual.push(`${t} ${key} ${value}`);
        last.set(key, value);
      }
  });
  for (const key of [...open.keys()]) close(key);
  return { stuck: stuck.sort(), usual };
}
