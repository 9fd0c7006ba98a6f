/**
 * Records stuck-recorded.json: what the stuck-reading statistics answer on
 * the sequence of stuck-sequence.ts, and their checkpoint state at
 * CHECKPOINT_TICK and at the end. Run it (`npx tsx` on this file) only to
 * re-record after a deliberate change of behaviour; stuck.test.ts holds the
 * statistics to the recording.
 */
import { writeFileSync } from 'node:fs';
import { StuckReadings, usualRun } from '../../../../detector/alerts/stuck.ts';
import { CHECKPOINT_TICK, sequenceFrames, traceSequence } from './stuck-sequence.ts';

const readings = new StuckReadings();
const frames = sequenceFrames();
// Asked through the checkpoint format, so any version of the statistics can record.
const usualOf = (node: string, modality: string): number | undefined => {
  const run = readings.toJSON()[node]?.[modality];
  return run ? usualRun(run.runs) : undefined;
};
const before = traceSequence(readings, frames.slice(0, CHECKPOINT_TICK), 0, usualOf);
const checkpoint = readings.toJSON();
const after = traceSequence(readings, frames.slice(CHECKPOINT_TICK), CHECKPOINT_TICK, usualOf);
const recording = { before, checkpoint, after, final: readings.toJSON() };
writeFileSync(new URL('./stuck-recorded.json', import.meta.url), JSON.stringify(recording) + '\n');
