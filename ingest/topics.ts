import { FRAME_PARTITIONS, READINGS_PARTITIONS, SIDE_TOPIC_PARTITIONS } from '../common/constants.ts';
import type { TopicSpec } from '../common/transport.ts';
import { TOPICS } from '../common/types.ts';

/**
 * Topics ingest reads and writes. `wsn.frames` has as many partitions as the
 * topology assumes for its cluster → partition map (topology's default 12).
 */
export interface IngestTopicNames {
  readings: string;
  readingsDlq: string;
  frames: string;
}

/** The names fixed by the design; tests pass their own to stay apart from a running pipeline. */
export const DEFAULT_INGEST_TOPICS: IngestTopicNames = {
  readings: TOPICS.readings,
  readingsDlq: TOPICS.readingsDlq,
  frames: TOPICS.frames,
};

export function ingestTopicSpecs(names: IngestTopicNames = DEFAULT_INGEST_TOPICS): TopicSpec[] {
  return [
    { topic: names.readings, partitions: READINGS_PARTITIONS },
    { topic: names.readingsDlq, partitions: SIDE_TOPIC_PARTITIONS },
    { topic: names.frames, partitions: FRAME_PARTITIONS },
  ];
}

/** Consumer group of the ingest service on `wsn.readings`. */
export const INGEST_GROUP = 'wsn-ingest';

/** The spec of the readings topic under another name (replay and simulate may send elsewhere). */
export function readingsTopicSpec(name: string): TopicSpec {
  return { ...ingestTopicSpecs().find((s) => s.topic === TOPICS.readings)!, topic: name };
}
