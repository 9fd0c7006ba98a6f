import type { ResultBatch, ResultSink } from './sink.ts';

/** Writes a batch to several sinks at once; fails if any of them fails (the batch is then retried). */
export class FanOutSink implements ResultSink {
  readonly name: string;

  constructor(private readonly sinks: ResultSink[]) {
    this.name = sinks.map((sink) => sink.name).join('+');
  }

  async write(batch: ResultBatch): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.write(batch)));
  }

  async close(): Promise<void> {
    await Promise.all(this.sinks.map((sink) => sink.close()));
  }
}
