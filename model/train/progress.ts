import type { TrainProgress } from './train.ts';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(rest).padStart(2, '0')}s` : `${rest}s`;
}

/** One progress line: epoch, bar, loss, speed, ETA. */
export function progressLine(p: TrainProgress, width = 24): string {
  const fraction = p.batches > 0 ? p.batch / p.batches : 0;
  const filled = Math.round(fraction * width);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
  const validation = p.validationLoss === undefined ? '' : ` val ${p.validationLoss.toFixed(4)}`;
  const phase = p.phase === 'validate' && p.validationLoss === undefined ? ' validating…' : '';
  return `epoch ${p.epoch}/${p.epochs} [${bar}] ${Math.round(fraction * 100)}% loss ${p.loss.toFixed(4)}${validation} · ${p.windowsPerSecond.toFixed(1)} windows/s · ${formatDuration(p.elapsedSeconds)} elapsed · ETA ${formatDuration(p.etaSeconds)}${phase}`;
}

/**
 * Renders training progress on a stream: a bar redrawn in place on a
 * terminal; otherwise (a log file, a pipe) a plain line at most every
 * `intervalSeconds` while an epoch runs, so a long epoch never stays silent.
 * One line per finished epoch (with its validation loss) always.
 */
export function createProgressReporter(
  stream: NodeJS.WriteStream = process.stderr,
  intervalSeconds = 30,
  now: () => number = Date.now,
): (p: TrainProgress) => void {
  const tty = Boolean(stream.isTTY);
  let lastLine = now();
  return (p) => {
    const line = progressLine(p);
    if (p.validationLoss !== undefined) {
      stream.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
      lastLine = now();
    } else if (tty) {
      stream.write(`\r\x1b[K${line}`);
    } else if (now() - lastLine >= intervalSeconds * 1000) {
      stream.write(`${line}\n`);
      lastLine = now();
    }
  };
}
