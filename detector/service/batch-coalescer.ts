/**
 * Batches handed over while the ones before are being processed wait, and
 * then go through together. The transport hands the detector several
 * partitions at once, so at a tick's close the frames of many partitions
 * share one run (its model calls, its sink write) instead of one
 * partition's frames per run. Runs still happen one at a time, in order.
 */
export class BatchCoalescer<Batch, Answer> {
  private waiting: Array<{ batch: Batch; resolve: (answer: Answer) => void; reject: (error: unknown) => void }> = [];

  /**
   * `schedule` runs a job after the jobs before it (the service's batch
   * queue); `processAll` handles the batches of one run and answers each, in
   * order. While it runs it may take the batches handed over since (`more`)
   * into the run; it then answers those too, after the first, in the order
   * taken. A failed run fails every batch in it.
   */
  constructor(
    private readonly schedule: (job: () => Promise<void>) => Promise<void>,
    private readonly processAll: (batches: Batch[], more: () => Batch[]) => Promise<Answer[]>,
  ) {}

  /** Runs `batch` with the others waiting when its turn comes; resolves with its own answer. */
  add(batch: Batch): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      // The first to wait schedules the run; those that come before it starts join it.
      if (this.waiting.length === 1) this.schedule(() => this.runWaiting()).catch(() => undefined);
    });
  }

  private async runWaiting(): Promise<void> {
    // The transport hands over the batches of one fetch one after another: let them all join.
    await new Promise((resolve) => setImmediate(resolve));
    const run = this.waiting.splice(0);
    // The run before took them all.
    if (run.length === 0) return;
    const more = (): Batch[] => {
      const taken = this.waiting.splice(0);
      run.push(...taken);
      return taken.map((entry) => entry.batch);
    };
    try {
      const answers = await this.processAll(
        run.map((entry) => entry.batch),
        more,
      );
      run.forEach((entry, i) => entry.resolve(answers[i]));
    } catch (error) {
      for (const entry of run) entry.reject(error);
      throw error;
    }
  }
}
