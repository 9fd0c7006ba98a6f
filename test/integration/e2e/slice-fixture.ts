/**
 * The setup every end-to-end test file shares: the services must answer, the
 * slice folder and its trained model must exist, and every pipeline a test
 * opens is closed after the file, whatever the outcome.
 */
import { afterAll, beforeAll } from 'vitest';
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
