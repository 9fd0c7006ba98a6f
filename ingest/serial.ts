/**
 * Runs async work one piece at a time, in call order: the pipelines' batches,
 * timer moves and topology switches all change one aligner state. A piece
 * that fails does not stop the ones queued after it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.tail.catch(() => undefined).then(work);
    this.tail = next;
    return next;
  }

  /** Waits for everything queued so far (failures included). */
  async drain(): Promise<void> {
    await this.tail.catch(() => undefined);
  }
}
