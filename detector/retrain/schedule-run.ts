/**
 * The wiring of `wsn-watch retrain --every`: the schedule (schedule.ts) with
 * the real steps (retrain on InfluxDB, the models topic, the promotion gate)
 * and the wall clock; SIGTERM/SIGINT end it between or during waits.
 */
import type { Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { ModelRegistry, registryDir } from '../../model/registry/store.ts';
import { readCurrentRecord, writePromotion, writeShadow } from '../registry/models-topic.ts';
import { promotionGateInUse } from '../registry/promotion-gate.ts';
import { runRetrain, type RetrainOptions } from './run.ts';
import { RetrainSchedule, type ScheduleClock, type ScheduleSteps } from './schedule.ts';
import { HOUR_MS, DAY_MS } from '../../common/constants.ts';

export interface ScheduleSettings {
  everyMs: number;
  shadowForMs: number;
  autoPromote: boolean;
}

const BY = 'retrain schedule';
/** setTimeout cannot wait longer than about 24 days at once. */
const LONGEST_WAIT_MS = DAY_MS;

const say = (line: string): void => void process.stderr.write(`retrain: ${new Date().toISOString()} ${line}\n`);

function steps(config: Config, options: Omit<RetrainOptions, 'since'>): ScheduleSteps {
  const registry = new ModelRegistry(registryDir(config));
  const ofNetwork = async (): Promise<string[]> =>
    (await registry.list()).filter((version) => version.network === config.network).map((version) => version.id);
  return {
    retrain: async ({ from, until }) => {
      const before = new Set(await ofNetwork());
      await runRetrain({ ...options, since: until - from, until }, config);
      const registered = (await ofNetwork()).filter((id) => !before.has(id));
      if (registered.length === 0) throw new Error('the retraining registered no version');
      return registered[registered.length - 1];
    },
    shadow: async (id) => void (await writeShadow(config, id, BY)),
    compare: async (id, period) => {
      const gate = promotionGateInUse();
      const record = await readCurrentRecord(config);
      if (!gate || !record)
        throw new UserError('RETRAIN_NO_GATE', 'no promotion gate or no promoted version to compare with');
      return gate(config, record, await registry.get(id), { since: period.until - period.from, until: period.until });
    },
    promote: async (id) => void (await writePromotion(config, await registry.get(id), BY)),
  };
}

/** The wall clock; its waits end early (false) once the process is told to stop. */
function wallClock(): { clock: ScheduleClock; stop(): void } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const clock: ScheduleClock = {
    now: () => Date.now(),
    sleep: async (ms) => {
      const until = Date.now() + ms;
      while (!stopped && Date.now() < until) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(LONGEST_WAIT_MS, until - Date.now()));
        });
      }
      return !stopped;
    },
  };
  const stop = (): void => {
    stopped = true;
    wake?.();
  };
  return { clock, stop };
}

export async function runRetrainSchedule(
  options: Omit<RetrainOptions, 'since'>,
  config: Config,
  settings: ScheduleSettings,
): Promise<void> {
  const { clock, stop } = wallClock();
  const schedule = new RetrainSchedule({ ...settings, steps: steps(config, options), clock, log: say });
  const onSignal = (signal: NodeJS.Signals): void => {
    say(`${signal}: stopping after the step in progress`);
    stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  say(
    `every ${settings.everyMs / HOUR_MS} h: retrain on the period, shadow the candidate for ${settings.shadowForMs / HOUR_MS} h, compare; ${settings.autoPromote ? 'promote when the gate passes' : 'promotion left to you (retrain.autoPromote off)'}`,
  );
  try {
    await schedule.run();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  say('stopped');
}
