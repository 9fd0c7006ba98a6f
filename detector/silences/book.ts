import type { Logger } from '../../common/log.ts';
import {
  SilenceFormatError,
  coversAlert,
  decodeSilence,
  encodeSilence,
  isActive,
  type Silence,
} from '../../common/silences.ts';
import type { KeyedTable } from '../../common/transport.ts';
import type { Modality, NodeId } from '../../common/types.ts';

export interface SilenceBookOptions {
  /** The compacted silences topic as a keyed table (key = silence id). */
  table: KeyedTable;
  /** How often the table is read again, ms. */
  refreshMs: number;
  logger?: Logger;
  /** Wall clock, injectable for tests. */
  now?: () => number;
}

/**
 * Every silence of the silences table, followed live: read to its end at
 * start and every `refreshMs`, so all detector replicas (and the CLI) agree on
 * the silences a few seconds after one is added or expired. A record that
 * cannot be decoded is skipped with a warning, never fatal.
 */
export class SilenceBook {
  private silences = new Map<string, Silence>();
  /** The silences in start order, kept with the map: the gate asks about them for every node of every batch. */
  private sorted: Silence[] = [];
  private readonly skipped = new Set<string>();
  private readonly listeners = new Set<(silences: Silence[]) => void>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private fingerprint = '';
  readonly now: () => number;

  constructor(private readonly options: SilenceBookOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Reads the table once (so the first batch already sees every silence), then follows it. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.options.refreshMs);
    this.timer.unref();
  }

  /** Reads the table to its end now; a failure is logged and the silences known so far stay in force. */
  refresh(): Promise<void> {
    this.refreshing ??= this.readTable().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Calls `listener` with every silence after each change of the table. */
  onChange(listener: (silences: Silence[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  all(): Silence[] {
    return [...this.sorted];
  }

  active(now = this.now()): Silence[] {
    return this.sorted.filter((silence) => isActive(silence, now));
  }

  /** The active silence covering an alert about `node` blamed on `modality`, if any. */
  coveringAlert(network: string, node: NodeId, modality: Modality, now = this.now()): Silence | undefined {
    return this.active(now).find((silence) => coversAlert(silence, network, node, modality));
  }

  /** Whether any active silence (node-wide or of one modality) names the node: the `silenced` mark of its points. */
  nodeSilenced(network: string, node: NodeId, now = this.now()): boolean {
    return this.active(now).some((silence) => silence.network === network && silence.node === node);
  }

  async put(silence: Silence): Promise<void> {
    await this.options.table.put([{ key: silence.id, value: encodeSilence(silence) }]);
    this.setAll(new Map(this.silences).set(silence.id, silence));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.refreshing?.catch(() => undefined);
    await this.options.table.close();
  }

  private setAll(silences: Map<string, Silence>): void {
    this.silences = silences;
    this.sorted = [...silences.values()].sort((a, b) => a.startsAt - b.startsAt || a.id.localeCompare(b.id));
  }

  private async readTable(): Promise<void> {
    let values: Map<string, Buffer>;
    try {
      values = await this.options.table.readToEnd();
    } catch (error) {
      this.options.logger?.warn(
        { topic: this.options.table.topic, err: (error as Error).message },
        'cannot read the silences; the ones known stay in force',
      );
      throw error;
    }
    const next = new Map<string, Silence>();
    for (const [key, value] of values) {
      try {
        next.set(key, decodeSilence(value));
      } catch (error) {
        if (!(error instanceof SilenceFormatError)) throw error;
        if (!this.skipped.has(key))
          this.options.logger?.warn(
            { topic: this.options.table.topic, key, err: error.message },
            'skipping a bad silence',
          );
        this.skipped.add(key);
      }
    }
    this.setAll(next);
    const fingerprint = JSON.stringify(this.all());
    if (fingerprint === this.fingerprint) return;
    this.fingerprint = fingerprint;
    const silences = this.all();
    for (const listener of this.listeners) listener(silences);
  }
}
