import { describe, expect, it } from 'vitest';
import { UserError } from '../../../../common/errors.ts';
import {
  coversAlert,
  decodeSilence,
  encodeSilence,
  formatDuration,
  isActive,
  parseDuration,
  SilenceFormatError,
  type Silence,
} from '../../../../common/silences.ts';
import { buildSilence, expireSilence, formatSilences } from '../../../../detector/silences/spec.ts';

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const H = 3_600_000;

function userError(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error('expected a UserError');
}

describe('silence durations', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['2h', 2 * H],
    ['1d', 24 * H],
    ['1h30m', 1.5 * H],
    ['45s', 45_000],
    ['1w', 7 * 24 * H],
    ['1.5h', 1.5 * H],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '2', 'h', '2x', '2 h', '-1h', '0m', '2h junk', '1h-30m'])(
    'refuses "%s" saying what is accepted',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/duration/);
    },
  );

  it('formats durations in the largest units', () => {
    expect(formatDuration(1.5 * H)).toBe('1h30m');
    expect(formatDuration(26 * H + 5_000)).toBe('1d2h5s');
    expect(formatDuration(-1)).toBe('0s');
  });
});

describe('silence add: building a silence from the flags', () => {
  const base = { network: 'lab', node: '12', reason: 'battery swap' };

  it('--for counts from now; the author is the OS user unless --by says otherwise', () => {
    const silence = buildSilence({ ...base, for: '2h' }, NOW, 'ana');
    expect(silence).toMatchObject({ network: 'lab', node: '12', startsAt: NOW, endsAt: NOW + 2 * H, author: 'ana' });
    expect(silence.modality).toBeUndefined();
    expect(silence.id).toMatch(/^sil-[0-9a-f]{8}$/);
    expect(buildSilence({ ...base, for: '2h', by: 'ben' }, NOW, 'ana').author).toBe('ben');
  });

  it('--until and --modality', () => {
    const silence = buildSilence({ ...base, modality: 'humidity', until: '2026-03-01T18:00:00Z' }, NOW, 'ana');
    expect(silence).toMatchObject({ modality: 'humidity', endsAt: NOW + 6 * H });
  });

  it('--from starts a pending silence later', () => {
    const silence = buildSilence({ ...base, from: '2026-03-02T08:00:00Z', for: '1h' }, NOW, 'ana');
    expect(silence.startsAt).toBe(Date.UTC(2026, 2, 2, 8));
    expect(isActive(silence, NOW)).toBe(false);
    expect(isActive(silence, silence.startsAt)).toBe(true);
    expect(isActive(silence, silence.endsAt)).toBe(false);
  });

  it.each([
    [{ ...base, node: undefined, for: '2h' }, /--node/],
    [{ ...base, node: 'a b', for: '2h' }, /--node/],
    [{ ...base }, /how long: --for 2h or --until/],
    [{ ...base, for: '2h', until: '2026-03-01T18:00:00Z' }, /not both/],
    [{ ...base, for: '2x' }, /--for: "2x" is not a duration/],
    [{ ...base, until: 'tomorrow' }, /--until: "tomorrow" is not an ISO date-time/],
    [{ ...base, until: '2026-03-01T11:00:00Z' }, /would end \(2026-03-01T11:00:00.000Z\) before it starts/],
    [{ ...base, from: '2026-02-01T00:00:00Z', for: '1h' }, /would end in the past/],
    [{ ...base, reason: ' ', for: '2h' }, /--reason is required/],
    [{ ...base, modality: 'hum idity', for: '2h' }, /--modality/],
  ])('refuses bad flags: %j', (input, message) => {
    expect(userError(() => buildSilence(input, NOW, 'ana')).message).toMatch(message);
  });
});

describe('silence expire and list', () => {
  const silence: Silence = buildSilence({ network: 'lab', node: '12', reason: 'battery swap', for: '2h' }, NOW, 'ana');
  const table = new Map([[silence.id, silence]]);

  it('ends the silence now and remembers it was expired early', () => {
    const expired = expireSilence(table, silence.id, NOW + H);
    expect(expired).toMatchObject({ endsAt: NOW + H, expiredAt: NOW + H, startsAt: NOW });
    expect(isActive(expired, NOW + H)).toBe(false);
  });

  it('refuses unknown ids (naming the active ones) and silences already over', () => {
    expect(userError(() => expireSilence(table, 'sil-nope', NOW)).hint).toContain(silence.id);
    expect(userError(() => expireSilence(table, silence.id, NOW + 3 * H)).message).toMatch(/already ended/);
  });

  it('lists one aligned line per silence with its state and time left', () => {
    const text = formatSilences([silence, { ...silence, id: 'sil-old', endsAt: NOW - 1, expiredAt: NOW - 1 }], NOW + H);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+NETWORK\s+NODE\s+MODALITY\s+STARTS\s+ENDS\s+LEFT\s+BY\s+REASON$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${silence.id}\\s+active\\s+lab\\s+12\\s+\\(all\\).*\\s1h\\s+ana\\s+battery swap$`),
    );
    expect(lines[2]).toMatch(/^sil-old\s+expired early\s/);
  });
});

describe('silence records', () => {
  const silence = buildSilence(
    { network: 'lab', node: '7', modality: 'humidity', reason: 'recalibration', for: '1h' },
    NOW,
    'ana',
  );

  it('round-trip through the table encoding', () => {
    expect(decodeSilence(Buffer.from(encodeSilence(silence)))).toEqual(silence);
  });

  it.each([
    'not json',
    '{}',
    JSON.stringify({ ...silence, endsAt: silence.startsAt - 1 }),
    JSON.stringify({ ...silence, node: '' }),
  ])('refuses a bad record with a reason: %s', (text) => {
    expect(() => decodeSilence(text)).toThrow(SilenceFormatError);
  });

  it('a modality silence covers only alerts blamed on that modality; a node-wide one covers all of the node', () => {
    expect(coversAlert(silence, 'lab', '7', 'humidity')).toBe(true);
    expect(coversAlert(silence, 'lab', '7', 'temperature')).toBe(false);
    expect(coversAlert(silence, 'lab', '7', 'none')).toBe(false);
    expect(coversAlert(silence, 'other', '7', 'humidity')).toBe(false);
    const nodeWide: Silence = { ...silence, modality: undefined };
    delete nodeWide.modality;
    expect(coversAlert(nodeWide, 'lab', '7', 'none')).toBe(true);
    expect(coversAlert(nodeWide, 'lab', '8', 'none')).toBe(false);
  });
});
