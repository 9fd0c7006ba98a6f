/**
 * Scheduled retraining (`wsn-watch retrain --every 7d`): each period it
 * retrains on the period just ended and registers the candidate, starts its
 * shadow, waits `shadowFor`, compares it with the live model (the promotion
 * gate) and promotes it when the gate passes and `autoPromote` is on, else
 * logs the comparison and leaves it. A period that fails (no data, too few
 * ticks, a service down) is logged and the schedule goes on with the next.
 * The steps and the clock are injected, so the loop is tested without
 * services or waiting.
 */
import { UserError } from '../../common/errors.ts';
import { HOUR_MS } from '../../common/constants.ts';

export interface SchedulePeriod {
  from: number;
  until: number;
}

/** What a period does; the command wires them to retrain, `model shadow`, the gate and `model promote`. */
export interface ScheduleSteps {
  /** Trains on the period and registers the candidate; its version id. */
  retrain(period: SchedulePeriod): Promise<string>;
  shadow(version: string): Promise<void>;
  /** The gate's comparison of the candidate with the live model over the shadow period. */
  compare(version: string, period: SchedulePeriod): Promise<{ pass: boolean; report: string }>;
  promote(version: string): Promise<void>;
}

export interface ScheduleClock {
  now(): number;
  /** Resolves after `ms`, or early (false) when the schedule is stopped. */
  sleep(ms: number): Promise<boolean>;
}

export interface ScheduleOptions {
  everyMs: number;
  shadowForMs: number;
  autoPromote: boolean;
  steps: ScheduleSteps;
  clock: ScheduleClock;
  log: (line: string) => void;
}

export type CycleOutcome =
  | { kind: 'promoted'; version: string }
  | { kind: 'left'; version: string; pass: boolean }
  | { kind: 'failed'; step: string; reason: string }
  | { kind: 'stopped' };

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

export class RetrainSchedule {
  private cycles = 0;

  constructor(private readonly options: ScheduleOptions) {
    if (options.shadowForMs >= options.everyMs)
      throw new UserError(
        'RETRAIN_SCHEDULE_INVALID',
        `the shadow (${options.shadowForMs / HOUR_MS} h) must end before the next period starts (every ${options.everyMs / HOUR_MS} h)`,
        'shorten retrain.shadowFor or lengthen retrain.every',
      );
  }

  /** Runs periods until the clock's sleep is cut short (stopped); returns each period's outcome. */
  async run(maxCycles = Number.POSITIVE_INFINITY): Promise<CycleOutcome[]> {
    const outcomes: CycleOutcome[] = [];
    while (this.cycles < maxCycles) {
      const started = this.options.clock.now();
      const outcome = await this.cycle();
      outcomes.push(outcome);
      if (outcome.kind === 'stopped') break;
      const next = started + this.options.everyMs;
      this.options.log(`next period ends ${iso(next)}`);
      if (!(await this.options.clock.sleep(Math.max(0, next - this.options.clock.now())))) {
        outcomes.push({ kind: 'stopped' });
        break;
      }
    }
    return outcomes;
  }

  /** One period: retrain on the one just ended, shadow, compare after shadowFor, promote or leave. */
  async cycle(): Promise<CycleOutcome> {
    this.cycles += 1;
    const { steps, clock, log } = this.options;
    const until = clock.now();
    const period = { from: until - this.options.everyMs, until };
    log(`period ${this.cycles}: retraining on ${iso(period.from)} .. ${iso(period.until)}`);
    const version = await this.step('retrain', () => steps.retrain(period));
    if (typeof version !== 'string') return version;
    const shadowed = await this.step('shadow', () => steps.shadow(version));
    if (shadowed !== undefined) return shadowed;
    log(`registered ${version}; shadow-scoring it for ${this.options.shadowForMs / HOUR_MS} h`);
    if (!(await clock.sleep(this.options.shadowForMs))) return { kind: 'stopped' };
    const compared = { from: clock.now() - this.options.shadowForMs, until: clock.now() };
    const verdict = await this.step('compare', () => steps.compare(version, compared));
    if ('kind' in verdict) return verdict;
    for (const line of verdict.report.split('\n')) log(line);
    if (!verdict.pass) {
      log(`${version} stays a candidate: the gate fails`);
      return { kind: 'left', version, pass: false };
    }
    if (!this.options.autoPromote) {
      log(
        `${version} passes the gate; retrain.autoPromote is off: promote it with \`wsn-watch model promote ${version}\``,
      );
      return { kind: 'left', version, pass: true };
    }
    const promoted = await this.step('promote', () => steps.promote(version));
    if (promoted !== undefined) return promoted;
    log(`promoted ${version}`);
    return { kind: 'promoted', version };
  }

  /** Runs a step; a failure ends the period with a log line saying which step and why (never the schedule). */
  private async step<T>(name: string, run: () => Promise<T>): Promise<T | CycleOutcome> {
    try {
      return await run();
    } catch (error) {
      const reason =
        error instanceof UserError && error.hint ? `${error.message} (${error.hint})` : (error as Error).message;
      this.options.log(`period ${this.cycles}: ${name} failed: ${reason}; trying again next period`);
      return { kind: 'failed', step: name, reason };
    }
  }
}
