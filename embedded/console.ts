import type { Alert } from '../common/types.ts';

/**
 * What the demo prints: a compact live status (one line redrawn in place on a
 * terminal, plain periodic lines otherwise) and one line per alert
 * transition. Alert lines are never overwritten, so they stay in the
 * scroll-back; the status line is redrawn under them.
 */
export interface DemoStatus {
  /** Event-time ticks the detector finished per wall-clock second, since the last status. */
  ticksPerSecond: number;
  nodes: number;
  clusters: number;
  /** Nodes whose newest verdict is anomalous. */
  anomalousNodes: number;
  alertsFiring: number;
  /** Newest tick scored, UTC ms (null before the first). */
  eventTs: number | null;
  dashboardUrl: string;
}

export function formatStatus(status: DemoStatus): string {
  const event =
    status.eventTs === null
      ? 'warming up'
      : `event time ${new Date(status.eventTs).toISOString().slice(0, 16).replace('T', ' ')}Z`;
  return [
    `${status.ticksPerSecond.toFixed(1)} ticks/s`,
    `${status.nodes} nodes`,
    `${status.clusters} clusters`,
    `${status.anomalousNodes} anomalous now`,
    `${status.alertsFiring} alert${status.alertsFiring === 1 ? '' : 's'} firing`,
    event,
    status.dashboardUrl,
  ].join(' · ');
}

/**
 * `ALERT firing node 17 (cluster c2) temperature p=0.97 since 2004-03-04T01:23:00Z → http://127.0.0.1:8080/node/default/17`;
 * a silent node reads `silent` instead of modality and probability, a topology change names the change;
 * a resolved alert adds `until …`.
 */
export function formatAlert(alert: Alert): string {
  const what =
    alert.kind === 'silent'
      ? 'silent (stopped reporting)'
      : alert.kind === 'topology'
        ? `topology: ${alert.change ?? 'changed'} (informational)`
        : `${alert.modality} p=${alert.probability.toFixed(2)}`;
  const until = alert.status === 'resolved' && alert.endsAt !== undefined ? ` until ${isoSeconds(alert.endsAt)}` : '';
  return `ALERT ${alert.status} node ${alert.node} (cluster ${alert.cluster}) ${what} since ${isoSeconds(alert.startsAt)}${until} → ${alert.dashboardUrl}`;
}

function isoSeconds(ts: number): string {
  return new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface ConsoleOutput {
  write(text: string): boolean;
  isTTY?: boolean;
  /** Terminal width; a longer status line would wrap and could not be redrawn in place. */
  columns?: number;
}

/** Writes lines and the live status to one stream (stdout). */
export class DemoConsole {
  private statusShown = false;
  private lastPlainStatus = 0;

  constructor(
    private readonly out: ConsoleOutput,
    /** Without a terminal, a status line at most this often. */
    private readonly plainEveryMs = 5_000,
  ) {}

  /** A permanent line (start-up information, alerts, the summary). */
  line(text: string): void {
    this.clearStatus();
    this.out.write(`${text}\n`);
  }

  status(status: DemoStatus, now = Date.now()): void {
    const text = formatStatus(status);
    if (this.out.isTTY) {
      const width = this.out.columns ?? Infinity;
      const fitted = text.length < width ? text : `${text.slice(0, Math.max(0, width - 2))}…`;
      // \r + erase line: redraw in place; no newline, so alert lines can replace it.
      this.out.write(`\r\x1b[2K${fitted}`);
      this.statusShown = true;
      return;
    }
    if (now - this.lastPlainStatus < this.plainEveryMs) return;
    this.lastPlainStatus = now;
    this.out.write(`status: ${text}\n`);
  }

  /** Ends the in-place status line so whatever follows starts on its own line. */
  clearStatus(): void {
    if (!this.statusShown) return;
    this.out.write('\r\x1b[2K');
    this.statusShown = false;
  }
}
