import { describe, expect, it } from 'vitest';
import { UserError } from '../../../../common/errors.ts';
import { RetrainSchedule, type ScheduleSteps } from '../../../../detector/retrain/schedule.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 10, 1);

/** A clock that jumps instead of waiting; stops after `sleeps` sleeps. */
function fakeClock(sleeps = Number.POSITIVE_INFINITY) {
  let now = START;
  let slept = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      if (slept++ >= sleeps) return false;
      now += ms;
      return true;
    },
  };
}

/** Steps that record what they were asked; the gate passes for the versions in `passing`. */
function fakeSteps(passing: Set<string>, failRetrainAt: Set<number> = new Set()) {
  const calls: string[] = [];
  let next = 2;
  let period = 0;
  const steps: ScheduleSteps = {
    retrain: async ({ from, until }) => {
      period += 1;
      calls.push(`retrain ${(until - from) / DAY}d until day ${(until - START) / DAY}`);
      if (failRetrainAt.has(period))
        throw new UserError('RETRAIN_NO_DATA', 'no readings of network lab in the period', 'give a longer --since');
      return `v${next++}`;
    },
    shadow: async (version) => void calls.push(`shadow ${version}`),
    compare: async (version, { from, until }) => {
      calls.push(`compare ${version} over ${(until - from) / HOUR} h until day ${(until - START) / DAY}`);
      return { pass: passing.has(version), report: `gate: ${passing.has(version) ? 'passes' : 'fails: worse'}` };
    },
    promote: async (version) => void calls.push(`promote ${version}`),
  };
  return { steps, calls };
}

describe('the retraining schedule (injected clock)', () => {
  it('each period: retrain on it, shadow, compare after shadowFor, promote when the gate passes', async () => {
    const log: string[] = [];
    const { steps, calls } = fakeSteps(new Set(['v3']));
    const schedule = new RetrainSchedule({
      everyMs: 7 * DAY,
      shadowForMs: DAY,
      autoPromote: true,
      steps,
      clock: fakeClock(),
      log: (line) => log.push(line),
    });
    const outcomes = await schedule.run(2);
    expect(outcomes).toEqual([
      { kind: 'left', version: 'v2', pass: false },
      { kind: 'promoted', version: 'v3' },
    ]);
    expect(calls).toEqual([
      'retrain 7d until day 0',
      'shadow v2',
      'compare v2 over 24 h until day 1',
      // The next period starts a week after the first, not a week after the comparison.
      'retrain 7d until day 7',
      'shadow v3',
      'compare v3 over 24 h until day 8',
      'promote v3',
    ]);
    expect(log).toContain('v2 stays a candidate: the gate fails');
    expect(log).toContain('promoted v3');
    expect(log).toContain('next period ends 2026-11-15T00:00:00Z');
  });

  it('without autoPromote a passing candidate is left with the command to promote it', async () => {
    const log: string[] = [];
    const { steps, calls } = fakeSteps(new Set(['v2']));
    const schedule = new RetrainSchedule({
      everyMs: 7 * DAY,
      shadowForMs: DAY,
      autoPromote: false,
      steps,
      clock: fakeClock(),
      log: (line) => log.push(line),
    });
    expect(await schedule.cycle()).toEqual({ kind: 'left', version: 'v2', pass: true });
    expect(calls).not.toContain('promote v2');
    expect(log).toContain(
      'v2 passes the gate; retrain.autoPromote is off: promote it with `wsn-watch model promote v2`',
    );
  });

  it('a bad period (no data) is logged and the schedule goes on; stopping ends it between steps', async () => {
    const log: string[] = [];
    const { steps, calls } = fakeSteps(new Set(['v2']), new Set([1]));
    // Three sleeps: until period 2, its shadow, until period 3; the fourth (period 3's shadow) is cut short.
    const schedule = new RetrainSchedule({
      everyMs: 7 * DAY,
      shadowForMs: DAY,
      autoPromote: true,
      steps,
      clock: fakeClock(3),
      log: (line) => log.push(line),
    });
    const outcomes = await schedule.run();
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['failed', 'promoted', 'stopped']);
    expect(outcomes[0]).toEqual({
      kind: 'failed',
      step: 'retrain',
      reason: 'no readings of network lab in the period (give a longer --since)',
    });
    expect(log[1]).toBe(
      'period 1: retrain failed: no readings of network lab in the period (give a longer --since); trying again next period',
    );
    expect(calls.at(-1)).toBe('shadow v3');
  });

  it('refuses a shadow as long as the period', () => {
    const { steps } = fakeSteps(new Set());
    expect(
      () =>
        new RetrainSchedule({
          everyMs: DAY,
          shadowForMs: DAY,
          autoPromote: false,
          steps,
          clock: fakeClock(),
          log: () => undefined,
        }),
    ).toThrow(/must end before the next period/);
  });
});
