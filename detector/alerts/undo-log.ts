/** Puts one change back. */
export type Undo = () => void;

/**
 * What a batch changed in per-node statistics, while the batch may still be rolled back: each change records how to
 * put it back, and a rollback runs them last first. For statistics that change a little per reading, this costs a
 * fraction of copying them whole before every batch.
 */
export class UndoRecorder {
  /** The changes recorded since keep (undefined: not recording). */
  log: Undo[] | undefined;

  /** Records from here on; the function returned puts everything recorded back. One batch at a time: a new keep ends the last. */
  keep(): () => void {
    this.drop();
    const log: Undo[] = [];
    this.log = log;
    return () => {
      for (let i = log.length - 1; i >= 0; i--) log[i]();
      log.length = 0;
      if (this.log === log) this.log = undefined;
    };
  }

  /**
   * Stops recording: what was recorded can no longer be put back. The record is emptied, not only let go: a batch's
   * rollback function, which may outlive the batch, would otherwise hold every change of it.
   */
  drop(): void {
    if (this.log) this.log.length = 0;
    this.log = undefined;
  }
}

/** Statistics whose batch changes can be taken back (the rollback of a batch). */
export interface Undoable {
  /** Records the changes from here on; the function returned puts them back. */
  keepUndo(): () => void;
  /** Ends the recording (the batch went through). */
  dropUndo(): void;
}

/** A new empty record (a creator for entryOf, made once). */
export function emptyRecord<T>(): Record<string, T> {
  return {};
}

/** `record[key]`, created by `create` when missing; with a log, the creation is recorded (undone: deleted again). */
export function entryOf<T>(record: Record<string, T>, key: string, create: () => T, log: Undo[] | undefined): T {
  const found = record[key];
  if (found !== undefined) return found;
  const fresh = create();
  record[key] = fresh;
  log?.push(() => {
    if (record[key] === fresh) delete record[key];
  });
  return fresh;
}

/** Deletes the keys of `record` not in `keep`; with a log, each deletion is recorded (undone: put back). */
export function keepOnly<T>(record: Record<string, T>, keep: ReadonlySet<string>, log: Undo[] | undefined): void {
  for (const key of Object.keys(record)) {
    if (keep.has(key)) continue;
    const gone = record[key];
    delete record[key];
    log?.push(() => (record[key] = gone));
  }
}
