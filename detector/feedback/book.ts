import { FeedbackFormatError, decodeFeedback, encodeFeedback, type Feedback } from '../../common/feedback.ts';
import type { Logger } from '../../common/log.ts';
import type { KeyedTable } from '../../common/transport.ts';

export interface FeedbackBookOptions {
  /** The compacted feedback topic as a keyed table (key = alert id). */
  table: KeyedTable;
  /** How often the table is read again, ms. */
  refreshMs: number;
  logger?: Logger;
}

/**
 * Every feedback record of the feedback table, followed live: read to its
 * end at start and every `refreshMs`, so all detector replicas apply the same
 * marks a few seconds after one is made. A record that cannot be decoded is
 * skipped with one warning, never fatal; a failed read keeps what is known.
 */
export class FeedbackBook {
  private records: Feedback[] = [];
  private readonly skipped = new Set<string>();
  private readonly listeners = new Set<(records: Feedback[]) => void>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private fingerprint = '';

  constructor(private readonly options: FeedbackBookOptions) {}

  /** Reads the table once (so the first batch already sees every mark), then follows it. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.options.refreshMs);
    this.timer.unref();
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.readTable().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Calls `listener` with every record after each change of the table (the first read counts as one). */
  onChange(listener: (records: Feedback[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The records in the order they were marked. */
  all(): Feedback[] {
    return [...this.records];
  }

  async put(feedback: Feedback): Promise<void> {
    await this.options.table.put([{ key: feedback.alertId, value: encodeFeedback(feedback) }]);
    await this.refresh();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.refreshing?.catch(() => undefined);
    await this.options.table.close();
  }

  private async readTable(): Promise<void> {
    const { table, logger } = this.options;
    let values: Map<string, Buffer>;
    try {
      values = await table.readToEnd();
    } catch (error) {
      logger?.warn(
        { topic: table.topic, err: (error as Error).message },
        'cannot read the feedback; the marks known stay in force',
      );
      throw error;
    }
    const records: Feedback[] = [];
    for (const [key, value] of values) {
      try {
        records.push(decodeFeedback(value));
      } catch (error) {
        if (!(error instanceof FeedbackFormatError)) throw error;
        if (!this.skipped.has(key))
          logger?.warn({ topic: table.topic, key, err: error.message }, 'skipping bad feedback');
        this.skipped.add(key);
      }
    }
    this.records = records.sort((a, b) => a.markedAt - b.markedAt || a.alertId.localeCompare(b.alertId));
    const fingerprint = JSON.stringify(this.records);
    if (fingerprint === this.fingerprint) return;
    this.fingerprint = fingerprint;
    for (const listener of this.listeners) listener(this.all());
  }
}
