import type { Logger } from '../common/log.ts';
import type { NodeDirectory } from '../ingest/directory.ts';
import type { MemoryResultStore } from '../store/memory.ts';
import type { DemoConsole } from './console.ts';

export interface LiveStatusOptions {
  store: MemoryResultStore;
  view: DemoConsole;
  directory: NodeDirectory;
  network: string;
  tickMs: number;
  dashboardUrl: string;
  logger: Logger;
}

/**
 * The demo's live status line, redrawn every second from the result store,
 * and the count of ticks scored (for the closing summary). Counting and
 * redrawing stop separately: the batch in flight at shutdown still counts.
 */
export class LiveStatus {
  /** Newest tick scored, UTC ms (null before the first). */
  newestTick: number | null = null;
  ticksScored = 0;
  private lastSample = { at: Date.now(), tick: null as number | null };
  private ticksPerSecond = 0;
  private readonly unsubscribe: () => void;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: LiveStatusOptions) {
    this.unsubscribe = options.store.subscribe((change) => {
      if (change.kind === 'scores') this.scored(change.tick);
    });
    this.timer = setInterval(
      () => void this.refresh().catch((error: unknown) => options.logger.warn({ err: error }, 'status refresh failed')),
      1_000,
    );
  }

  stopRefreshing(): void {
    clearInterval(this.timer);
  }

  stopCounting(): void {
    this.unsubscribe();
  }

  private scored(tick: number): void {
    if (this.newestTick === null || tick > this.newestTick) {
      if (this.newestTick !== null) this.ticksScored += Math.round((tick - this.newestTick) / this.options.tickMs);
      else this.ticksScored = 1;
      this.newestTick = tick;
    }
  }

  private async refresh(): Promise<void> {
    const { store, view, directory, network, tickMs } = this.options;
    const now = Date.now();
    const elapsed = (now - this.lastSample.at) / 1000;
    if (elapsed > 0 && this.newestTick !== null)
      this.ticksPerSecond =
        this.lastSample.tick === null ? 0 : (this.newestTick - this.lastSample.tick) / tickMs / elapsed;
    this.lastSample = { at: now, tick: this.newestTick };
    const [nodes, alerts] = await Promise.all([store.latestNodes(network), store.alerts(network)]);
    view.status({
      ticksPerSecond: this.ticksPerSecond,
      nodes: directory.nodeCount,
      clusters: directory.clusters.length,
      anomalousNodes: nodes.filter((point) => point.isAnomaly === true).length,
      alertsFiring: alerts.filter((alert) => alert.status === 'firing').length,
      eventTs: this.newestTick,
      dashboardUrl: this.options.dashboardUrl,
    });
  }
}
