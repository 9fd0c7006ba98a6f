import { SILENCE_CODEC, coversAlert, isActive, type Silence } from '../../common/silences.ts';
import type { Modality, NodeId } from '../../common/types.ts';
import { KeyedBook, type KeyedBookOptions, type KeyedRecordFormat } from '../keyed-book.ts';

/** Silences on the silences topic: key = silence id, listed in start order. */
export const SILENCE_RECORDS: KeyedRecordFormat<Silence> = {
  name: 'silence',
  ...SILENCE_CODEC,
  keyOf: (silence) => silence.id,
  order: (a, b) => a.startsAt - b.startsAt || a.id.localeCompare(b.id),
};

export interface SilenceBookOptions extends Omit<KeyedBookOptions<Silence>, 'format'> {
  /** Wall clock, injectable for tests. */
  now?: () => number;
}

/**
 * Every silence of the silences table, followed live (see KeyedBook), so all
 * detector replicas (and the CLI) agree on the silences a few seconds after
 * one is added or expired; and the questions the alert gate asks of them.
 */
export class SilenceBook extends KeyedBook<Silence> {
  readonly now: () => number;

  constructor(options: SilenceBookOptions) {
    super({ ...options, format: SILENCE_RECORDS });
    this.now = options.now ?? Date.now;
  }

  active(now = this.now()): Silence[] {
    return this.current.filter((silence) => isActive(silence, now));
  }

  /** The active silence covering an alert about `node` blamed on `modality`, if any. */
  coveringAlert(network: string, node: NodeId, modality: Modality, now = this.now()): Silence | undefined {
    return this.active(now).find((silence) => coversAlert(silence, network, node, modality));
  }

  /** Whether any active silence (node-wide or of one modality) names the node: the `silenced` mark of its points. */
  nodeSilenced(network: string, node: NodeId, now = this.now()): boolean {
    // A loop, not active().some: this runs per node and tick, and the active list would be an array each time.
    for (const silence of this.current)
      if (silence.network === network && silence.node === node && isActive(silence, now)) return true;
    return false;
  }
}
