/**
 * What `wsn-watch silence add|list|expire` decide, free of Kafka and the
 * command line: a silence from the flags, an early expiry, and the listing.
 */
import { formatColumns } from '../../common/columns.ts';
import { UserError } from '../../common/errors.ts';
import {
  formatDuration,
  isActive,
  newSilenceId,
  parseDuration,
  parseInstant,
  type Silence,
} from '../../common/silences.ts';

export interface SilenceAddInput {
  network: string;
  node?: string;
  modality?: string;
  /** Duration text, e.g. 2h. */
  for?: string;
  /** ISO date-time the silence ends. */
  until?: string;
  /** ISO date-time the silence starts (default now). */
  from?: string;
  reason?: string;
  /** Author; default the OS user. */
  by?: string;
}

const NAME = /^[^\s/]+$/;

function parsed<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UserError('SILENCE_INVALID', `${flag}: ${(error as Error).message}`);
  }
}

/** A new silence from `silence add`'s flags; a UserError saying which flag is wrong otherwise. */
export function buildSilence(input: SilenceAddInput, now: number, osUser: string): Silence {
  const node = input.node?.trim() ?? '';
  if (!node || !NAME.test(node))
    throw new UserError('SILENCE_INVALID', `--node needs a node id without spaces, got "${input.node ?? ''}"`);
  const modality = input.modality?.trim();
  if (modality !== undefined && !/^\w+$/.test(modality))
    throw new UserError('SILENCE_INVALID', `--modality needs a modality name such as humidity, got "${modality}"`);
  if ((input.for === undefined) === (input.until === undefined))
    throw new UserError(
      'SILENCE_INVALID',
      input.for === undefined
        ? 'say how long: --for 2h or --until 2026-03-01T14:00:00Z'
        : 'give --for or --until, not both',
    );
  const reason = input.reason?.trim() ?? '';
  if (!reason) throw new UserError('SILENCE_INVALID', '--reason is required, e.g. --reason "battery swap"');
  const startsAt = input.from === undefined ? now : parsed('--from', () => parseInstant(input.from as string));
  const endsAt =
    input.for !== undefined
      ? startsAt + parsed('--for', () => parseDuration(input.for as string))
      : parsed('--until', () => parseInstant(input.until as string));
  if (endsAt <= startsAt)
    throw new UserError(
      'SILENCE_INVALID',
      `the silence would end (${new Date(endsAt).toISOString()}) before it starts (${new Date(startsAt).toISOString()})`,
      'give an --until after the start, or a positive --for',
    );
  if (endsAt <= now)
    throw new UserError('SILENCE_INVALID', `the silence would end in the past (${new Date(endsAt).toISOString()})`);
  const author = input.by?.trim() || osUser;
  return {
    id: newSilenceId(),
    network: input.network,
    node,
    ...(modality ? { modality } : {}),
    startsAt,
    endsAt,
    reason,
    author,
    createdAt: now,
  };
}

/** The silence ended now; a UserError when it is unknown or already over. */
export function expireSilence(silences: ReadonlyMap<string, Silence>, id: string, now: number): Silence {
  const silence = silences.get(id);
  if (!silence) {
    const known = [...silences.values()].filter((s) => s.endsAt > now).map((s) => s.id);
    throw new UserError(
      'SILENCE_UNKNOWN',
      `no silence with id "${id}"`,
      known.length > 0
        ? `active or pending ones: ${known.join(', ')}`
        : 'there is no active silence; see `wsn-watch silence list --all`',
    );
  }
  if (silence.endsAt <= now)
    throw new UserError('SILENCE_OVER', `silence ${id} already ended at ${new Date(silence.endsAt).toISOString()}`);
  // A pending silence expired before it started keeps endsAt >= startsAt.
  return { ...silence, endsAt: Math.max(now, silence.startsAt), expiredAt: now };
}

export function silenceState(silence: Silence, now: number): 'active' | 'pending' | 'expired' {
  if (isActive(silence, now)) return 'active';
  return silence.startsAt > now ? 'pending' : 'expired';
}

/** One line per silence under a header, as `silence list` prints them. */
export function formatSilences(silences: readonly Silence[], now: number): string {
  const header = ['ID', 'STATE', 'NETWORK', 'NODE', 'MODALITY', 'STARTS', 'ENDS', 'LEFT', 'BY', 'REASON'];
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const rows = silences.map((s) => {
    const state = silenceState(s, now);
    return [
      s.id,
      s.expiredAt !== undefined && state === 'expired' ? 'expired early' : state,
      s.network,
      s.node,
      s.modality ?? '(all)',
      iso(s.startsAt),
      iso(s.endsAt),
      state === 'expired' ? '-' : formatDuration(s.endsAt - now),
      s.author,
      s.reason,
    ];
  });
  return formatColumns([header, ...rows]);
}
