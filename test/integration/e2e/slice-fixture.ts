/**
 * The setup every end-to-end test file shares: the services must answer, the
 * slice folder and its trained model must exist, and every pipeline a test
 * opens is closed after the file, whatever the outcome.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import type { Frame } from '../../../common/types.ts';
import { requireServices } from '../foundation/services.ts';
import { FIRST_EPOCH, LAST_EPOCH, sliceFolder, sliceModel } from './ibrl-slice.ts';
import { Pipeline } from './pipeline.ts';
import { scoredClusterTicks } from '../../support/influx.ts';

export interface SliceFixture {
  /** The slice folder (IBRL layout) and its node file; set before the first test. */
  readonly data: { dir: string; nodeFile: string };
  /** Directory of the slice model; set before the first test. */
  readonly model: string;
  /** A new pipeline (own topics, database, network), closed after the file. */
  open(name: string): Pipeline;
}

/** Registers the file's beforeAll/afterAll and returns what they provide. */
export function useSlicePipeline(): SliceFixture {
  let data: SliceFixture['data'] | undefined;
  let model: string | undefined;
  const pipelines: Pipeline[] = [];
  beforeAll(async () => {
    await requireServices();
    data = await sliceFolder();
    model = await sliceModel((message) => process.stderr.write(`${message}\n`));
  }, 300_000);
  afterAll(async () => {
    await Promise.all(pipelines.map((pipeline) => pipeline.close()));
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the e2e ${what} is not ready: did beforeAll fail?`);
    return value;
  };
  return {
    get data() {
      return ready(data, 'slice folder');
    },
    get model() {
      return ready(model, 'slice model');
    },
    open(name) {
      const pipeline = new Pipeline(name);
      pipelines.push(pipeline);
      return pipeline;
    },
  };
}

/** A replay of the whole slice running in the background: its readings-sent promise and whether it has ended. */
export interface BackgroundReplay {
  readonly sent: Promise<number>;
  done(): boolean;
}

/** Starts replaying the slice (epochs FIRST_EPOCH…LAST_EPOCH) at `speed` without waiting for it. */
export function replayInBackground(pipeline: Pipeline, dataDir: string, speed: string): BackgroundReplay {
  const sent = pipeline.replay(dataDir, [
    '--speed',
    speed,
    '--from-epoch',
    String(FIRST_EPOCH),
    '--to-epoch',
    String(LAST_EPOCH),
  ]);
  let ended = false;
  void sent.then(
    () => (ended = true),
    () => (ended = true),
  );
  return { sent, done: () => ended };
}

/** Cluster ticks the pipeline's detectors have scored so far (in InfluxDB). */
export async function scoredTicks(pipeline: Pipeline): Promise<number> {
  return (await scoredClusterTicks(pipeline)).size;
}

/**
 * The frames of a run by `cluster@tick`, and how many were published again;
 * every repeat must equal the first frame of its tick (a process that took
 * over, or a restarted one, emits the same frame).
 */
export function framesByTick(frames: Frame[]): { byTick: Map<string, Frame>; repeated: number } {
  const byTick = new Map<string, Frame>();
  let repeated = 0;
  for (const frame of frames) {
    const key = `${frame.cluster}@${frame.tick}`;
    const earlier = byTick.get(key);
    if (earlier) {
      repeated++;
      expect(frame, key).toEqual(earlier);
    } else byTick.set(key, frame);
  }
  return { byTick, repeated };
}

/** Every frame on the frames topic (all that were published by now). */
export async function publishedFrames(p: Pipeline): Promise<Frame[]> {
  const admin = new Kafka({
    brokers: p.config.kafka.brokers,
    clientId: `e2e-${p.id}`,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  const published = (await admin.fetchTopicOffsets(p.topics.frames)).reduce(
    (n, o) => n + Number(o.high) - Number(o.low),
    0,
  );
  await admin.disconnect();
  return (await p.readTopic(p.topics.frames, (messages) => messages.length >= published, 60_000)).map(
    (m) => JSON.parse(m.value.toString('utf8')) as Frame,
  );
}
