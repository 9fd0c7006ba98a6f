import type { Logger } from '../common/log.ts';
import type { KeyedTable } from '../common/transport.ts';

/** How one kind of record is kept on its compacted topic. */
export interface KeyedRecordFormat<T> {
  /** For log lines: "silence", "feedback record". */
  name: string;
  encode(record: T): string;
  /** Throws an error of the kind `isFormatError` recognizes when the value is not such a record. */
  decode(value: Buffer): T;
  isFormatError(error: unknown): boolean;
  keyOf(record: T): string;
  /** The order `all()` returns the records in. */
  order(a: T, b: T): number;
}

export interface KeyedBookOptions<T> {
  /** The compacted topic as a keyed table. */
  table: KeyedTable;
  format: KeyedRecordFormat<T>;
  /** How often the table is read again, ms. */
  refreshMs: number;
  logger?: Logger;
}

/**
 * Every record of a compacted topic written by a command (silences,
 * operator feedback), followed live: read to its end at start and every
 * `refreshMs`, so all detector replicas agree on the records a few seconds
 * after one is written. A record that cannot be decoded is skipped with one
 * warning, never fatal; a failed read keeps the records known.
 */
export class KeyedBook<T> {
  private records: T[] = [];
  private readonly skipped = new Set<string>();
  private readonly listeners = new Set<(records: T[]) => void>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private fingerprint = '';

  constructor(private readonly options: KeyedBookOptions<T>) {}

  /** Reads the table once (so the first batch already sees every record), then follows it. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.options.refreshMs);
    this.timer.unref();
  }

  /** Reads the table to its end now; a failure is logged and the records known so far stay in force. */
  refresh(): Promise<void> {
    this.refreshing ??= this.readTable().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Calls `listener` with every record after each change of the table (the first read counts as one). */
  onChange(listener: (records: T[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every record, in the format's order. */
  all(): T[] {
    return [...this.records];
  }

  /** The records without a copy, for lookups made for every node of every batch. */
  protected get current(): readonly T[] {
    return this.records;
  }

  /** Writes a record and reads the table again, so it is in `all()` and the listeners have heard of it. */
  async put(record: T): Promise<void> {
    const { table, format } = this.options;
    await table.put([{ key: format.keyOf(record), value: format.encode(record) }]);
    await this.refresh();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.refreshing?.catch(() => undefined);
    await this.options.table.close();
  }

  private async readTable(): Promise<void> {
    const { table, format, logger } = this.options;
    let values: Map<string, Buffer>;
    try {
      values = await table.readToEnd();
    } catch (error) {
      logger?.warn(
        { topic: table.topic, err: (error as Error).message },
        `cannot read the ${format.name}s; the ones known stay in force`,
      );
      throw error;
    }
    const records: T[] = [];
    for (const [key, value] of values) {
      try {
        records.push(format.decode(value));
      } catch (error) {
        if (!format.isFormatError(error)) throw error;
        if (!this.skipped.has(key))
          logger?.warn({ topic: table.topic, key, err: (error as Error).message }, `skipping a bad ${format.name}`);
        this.skipped.add(key);
      }
    }
    this.records = records.sort(format.order);
    const fingerprint = JSON.stringify(this.records);
    if (fingerprint === this.fingerprint) return;
    this.fingerprint = fingerprint;
    for (const listener of this.listeners) listener(this.all());
  }
}
