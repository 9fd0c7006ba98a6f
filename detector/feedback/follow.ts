import { FEEDBACK_PARTITIONS } from '../../common/feedback.ts';
import type { Logger } from '../../common/log.ts';
import type { Transport } from '../../common/transport.ts';
import type { Modality, NodeId } from '../../common/types.ts';
import { FeedbackBook } from './book.ts';
import { NodeThresholds, thresholdRaises, type RaiseSettings, type ThresholdRaise } from './thresholds.ts';

export interface FollowFeedbackOptions {
  transport: Transport;
  /** config.feedback */
  settings: RaiseSettings & { topic: string; refreshMs: number };
  logger: Logger;
  /** Called with the raises in force after every read of the table (for /metrics). */
  onRaises?(raises: ThresholdRaise[]): void;
  /** Wall clock, injectable for tests. */
  now?: () => number;
}

export interface FollowedFeedback {
  book: FeedbackBook;
  /** The node's threshold for an alert blamed on `modality`: `base`, or a raise in force above it. */
  thresholdFor(base: number, network: string, node: NodeId, modality: Modality): number;
  close(): Promise<void>;
}

/**
 * The detector's view of the feedback topic: every replica reads it at start
 * and every refreshMs, turns the false alarms into per-node threshold raises
 * (thresholds.ts) and hands them to the alert tracker, which compares the
 * next tick with them. Raises that run out are dropped at the next refresh,
 * and at once by the lookup itself.
 */
export async function followFeedback(options: FollowFeedbackOptions): Promise<FollowedFeedback> {
  const { transport, settings, logger } = options;
  const now = options.now ?? Date.now;
  await transport.ensureTopics([{ topic: settings.topic, partitions: FEEDBACK_PARTITIONS, compact: true }]);
  const book = new FeedbackBook({
    table: transport.table({ topic: settings.topic, partitions: FEEDBACK_PARTITIONS }),
    refreshMs: settings.refreshMs,
    logger,
  });
  const thresholds = new NodeThresholds();
  let fingerprint = '';
  const apply = (): void => {
    const raises = thresholdRaises(book.all(), settings, now());
    thresholds.set(raises);
    options.onRaises?.(raises);
    const next = JSON.stringify(raises);
    if (next === fingerprint) return;
    fingerprint = next;
    logger.info(
      {
        records: book.all().length,
        raised: raises.map((r) => ({
          node: r.node,
          modality: r.modality ?? '*',
          threshold: Number(r.threshold.toFixed(4)),
          alert: r.alertId,
          until: new Date(r.until).toISOString(),
        })),
      },
      'feedback applied: node thresholds in force from the next tick',
    );
  };
  book.onChange(apply);
  await book.start();
  // Raises that expire between changes of the table leave the metrics and the log too.
  const expiry = setInterval(apply, Math.min(settings.refreshMs, 5_000));
  expiry.unref();
  return {
    book,
    thresholdFor: (base, network, node, modality) => thresholds.thresholdFor(base, network, node, modality, now()),
    async close() {
      clearInterval(expiry);
      await book.close();
    },
  };
}
