import type { Logger } from '../../common/log.ts';
import { SILENCE_PARTITIONS } from '../../common/silences.ts';
import type { Transport } from '../../common/transport.ts';
import { AlertmanagerSilenceMirror } from './alertmanager-mirror.ts';
import { SilenceBook } from './book.ts';
import { SilenceGate } from './gate.ts';

/** How often the Alertmanager mirror is reconciled even without a change (heals an Alertmanager restart). */
const MIRROR_RECONCILE_MS = 60_000;

export interface FollowSilencesOptions {
  transport: Transport;
  /** config.silences */
  settings: { topic: string; refreshMs: number };
  /** Alertmanager base URL when alerts go to Alertmanager: the silences are mirrored there. */
  alertmanagerUrl?: string;
  logger: Logger;
  /** Called with the number of silences in force after every read of the table. */
  onActive?(count: number): void;
}

export interface FollowedSilences {
  book: SilenceBook;
  gate: SilenceGate;
  close(): Promise<void>;
}

/** The detector's view of the silences topic: the book, the alert gate over it and, with Alertmanager, the mirror. */
export async function followSilences(options: FollowSilencesOptions): Promise<FollowedSilences> {
  const { transport, settings, logger } = options;
  await transport.ensureTopics([{ topic: settings.topic, partitions: SILENCE_PARTITIONS, compact: true }]);
  const book = new SilenceBook({
    table: transport.table({ topic: settings.topic, partitions: SILENCE_PARTITIONS }),
    refreshMs: settings.refreshMs,
    logger,
  });
  const gate = new SilenceGate(book);
  const mirror = options.alertmanagerUrl
    ? new AlertmanagerSilenceMirror({ url: options.alertmanagerUrl, topic: settings.topic, logger })
    : undefined;
  // The first read (in start) counts as a change: the mirror is reconciled at start too.
  book.onChange((silences) => {
    logger.info({ active: book.active().map((s) => s.id), known: silences.length }, 'silences changed');
    void mirror?.reconcile(silences);
  });
  await book.start();
  const count = setInterval(() => options.onActive?.(book.active().length), Math.min(settings.refreshMs, 5_000));
  count.unref();
  options.onActive?.(book.active().length);
  const heal = mirror ? setInterval(() => void mirror.reconcile(book.all()), MIRROR_RECONCILE_MS) : undefined;
  heal?.unref();
  return {
    book,
    gate,
    async close() {
      clearInterval(count);
      if (heal) clearInterval(heal);
      await book.close();
    },
  };
}
