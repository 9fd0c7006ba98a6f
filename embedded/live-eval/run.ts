/**
 * The live-path evaluation: faults of every taxonomy kind injected into raw
 * readings, run through `backtest` (ingest's alignment, the detector's frame
 * processor and alert tracker), measured per event for the model and both
 * baselines; plus one clean run for false alerts on the untouched data,
 * whose alerts also tell an injected run's background alerts on other nodes
 * from the ones its faults caused (fault-caused localization).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config.ts';
import type { Logger } from '../../common/log.ts';
import type { Reading } from '../../common/types.ts';
import { createRng } from '../../common/random.ts';
import type { StreamingModel } from '../../detector/service/model.ts';
import { applyLiveFaults, defaultRecipes, planLiveFaults, type LiveFault } from '../../sources/live-faults.ts';
import { formatEventsCsv, type AlertSpan, type EventOutcome, type FaultEvent } from '../backtest/events.ts';
import { networkFromTopology } from '../backtest/network.ts';
import { runBacktest, type BacktestResult, type ScorerResult } from '../backtest/run.ts';
import { policyWith } from '../backtest/model.ts';
import { budgetPriorOf } from '../../detector/alerts/false-alert-budget.ts';
import { formatAlert } from '../console.ts';
import type { LiveDataset } from './datasets.ts';
import { HOUR_MS } from '../../common/constants.ts';

export interface LiveEvalOptions {
  dataset: LiveDataset;
  model: StreamingModel;
  modelName: string;
  config: Config;
  seeds: number[];
  /** Injected runs per seed (each its own fault plan over the whole test part). */
  runsPerSeed: number;
  /** Faults of each kind per run. */
  perKind: number;
  /** Where the events files go. */
  workDir: string;
  /** Also write each run's per-node-tick scores there (`<dataset>-<run>-scores.csv`). */
  writeScores?: boolean;
  /** Report the model's alert transitions of the clean run through `progress`. */
  logCleanAlerts?: boolean;
  logger: Logger;
  progress: (message: string) => void;
}

export interface ScorerSummary {
  name: string;
  threshold: string;
  /** Per kind: recall per seed, ticks to detect of every detected event, localization and coverage pooled. */
  kinds: Map<string, KindSummary>;
  f1BySeed: number[];
  recallBySeed: number[];
  precisionBySeed: number[];
  /** False alerts per node-day on the clean test data. */
  cleanFalseAlertsPerNodeDay: number;
  cleanFalseAlerts: number;
  cleanNodeDays: number;
  /** Anomaly alerts outside any event during the injected runs, per node-day (mean over runs). */
  injectedFalseAlertsPerNodeDay: number[];
}

export interface KindSummary {
  events: number;
  recallBySeed: number[];
  ticksToDetect: number[];
  /** Detected events where no other node of the cluster alerted (strict localization). */
  localized: number;
  /** Detected events where no other node alerted that the clean run did not (fault-caused localization). */
  localizedFaultCaused: number;
  /** Other nodes' alerts during the detected events: ones the clean run also had, and the rest. */
  otherAlertsBackground: number;
  otherAlertsNew: number;
  detected: number;
  coverage: number[];
}

export interface LiveEvalResult {
  dataset: string;
  description: string;
  seeds: number[];
  runsPerSeed: number;
  events: number;
  scorers: ScorerSummary[];
  /** Wall seconds of all backtests. */
  seconds: number;
  ticksPerRun: number;
}

const toEvent = (fault: LiveFault): FaultEvent => ({
  node: fault.node,
  modality: fault.modality,
  start: fault.start,
  end: fault.end,
  kind: fault.kind,
});

export async function runLiveEvaluation(options: LiveEvalOptions): Promise<LiveEvalResult> {
  const { dataset, progress } = options;
  const started = performance.now();
  const backtest = backtester(options);

  progress(`${dataset.name}: clean run (false alerts on the untouched test data)`);
  const clean = await backtest(dataset.readings, [], 'clean');
  const summaries = clean.scorers.map(emptySummary);
  const cleanAlerts = new Map<string, readonly AlertSpan[]>(clean.scorers.map((s) => [s.name, s.spans]));
  let events = 0;
  for (const seed of options.seeds) {
    const tallies: SeedTally[] = summaries.map(() => ({ outcomes: [], alerts: 0, matchedAlerts: 0 }));
    for (let run = 0; run < options.runsPerSeed; run++) {
      const { list, result } = await injectedRun(
        options,
        (readings, events, label) => backtest(readings, events, label, cleanAlerts),
        seed,
        run,
      );
      events += list.length;
      result.scorers.forEach((scorer, i) => {
        const m = scorer.metrics!;
        tallies[i].outcomes.push(...m.outcomes);
        tallies[i].alerts += m.countedAlerts;
        tallies[i].matchedAlerts += m.matchedAlerts;
        summaries[i].injectedFalseAlertsPerNodeDay.push(m.falseAlertsPerNodeDay);
        progress(
          `${dataset.name} seed ${seed} run ${run + 1}: ${scorer.name}: recall ${m.all.recall.toFixed(2)}, F1 ${m.f1.toFixed(3)}`,
        );
      });
    }
    summaries.forEach((summary, i) => addSeed(summary, tallies[i]));
  }
  return {
    dataset: dataset.name,
    description: dataset.description,
    seeds: options.seeds,
    runsPerSeed: options.runsPerSeed,
    events,
    scorers: summaries,
    seconds: (performance.now() - started) / 1000,
    ticksPerRun: clean.ticks,
  };
}

type Backtester = (
  readings: Reading[],
  events: FaultEvent[],
  label: string,
  cleanAlerts?: ReadonlyMap<string, readonly AlertSpan[]>,
) => Promise<BacktestResult>;

/** A backtest of the dataset's network with the model, its alerts written to the work folder under `label`; baselines fitted on the part before the test span. */
function backtester(options: LiveEvalOptions): Backtester {
  const { dataset, progress } = options;
  const config: Config = { ...options.config, ingest: { ...options.config.ingest, tickMs: dataset.tickMs } };
  const network = networkFromTopology(config.network, dataset.topology, [
    ...new Set(dataset.readings.slice(0, 10_000).flatMap((r) => Object.keys(r.values))),
  ]);
  // The model's own threshold, following its false-alert budget on the stream as `detect` does.
  const policy = policyWith(config, options.model.threshold, budgetPriorOf(options.model));
  const warmupTicks = Math.max(2, Math.floor((dataset.testFrom - dataset.readings[0].ts) / dataset.tickMs));
  const file = (label: string, what: string): string =>
    path.join(options.workDir, `${dataset.name}-${label.replace(/\s+/g, '-')}-${what}.csv`);
  return (readings, events, label, cleanAlerts) =>
    runBacktest({
      cleanAlerts,
      alertsOut: file(label, 'alerts'),
      scoresOut: options.writeScores ? file(label, 'scores') : undefined,
      onAlert:
        options.logCleanAlerts && label === 'clean'
          ? (tick, alert) => progress(`${dataset.name} clean: [${new Date(tick).toISOString()}] ${formatAlert(alert)}`)
          : undefined,
      config,
      readings,
      directory: network.directory,
      model: options.model,
      modelName: options.modelName,
      policy,
      adjacency: network.adjacency,
      neighbours: network.neighbours,
      nearest: network.nearest,
      events,
      baselines: true,
      baselineFitTicks: warmupTicks,
      evaluateFrom: dataset.testFrom,
      logger: options.logger,
      progress: (message) => progress(`${dataset.name} ${label}: ${message}`),
    });
}

/** A scorer's summary before any injected run: its false alerts on the clean data. */
function emptySummary(scorer: ScorerResult): ScorerSummary {
  return {
    name: scorer.name,
    threshold: scorer.threshold,
    kinds: new Map(),
    f1BySeed: [],
    recallBySeed: [],
    precisionBySeed: [],
    cleanFalseAlertsPerNodeDay: scorer.metrics!.falseAlertsPerNodeDay,
    cleanFalseAlerts: scorer.metrics!.falseAlerts,
    cleanNodeDays: scorer.metrics!.nodeDays,
    injectedFalseAlertsPerNodeDay: [],
  };
}

/** One injected run: its own fault plan over the test part (written to the work folder as an events file), injected and backtested. */
async function injectedRun(
  options: LiveEvalOptions,
  backtest: Backtester,
  seed: number,
  run: number,
): Promise<{ list: FaultEvent[]; result: BacktestResult }> {
  const { dataset } = options;
  const rng = createRng(seed * 7919 + run);
  const faults = planLiveFaults({
    nodes: dataset.faultNodes,
    modalities: dataset.modalities,
    from: dataset.testFrom,
    to: dataset.testTo,
    tickMs: dataset.tickMs,
    // At least an hour, and twice the grace an alert has after a fault, so one fault's late alerts never fall into the next one.
    gapTicks: Math.max(Math.round(HOUR_MS / dataset.tickMs), 2 * options.model.config.window),
    recipes: defaultRecipes(dataset.tickMs),
    perKind: options.perKind,
    levels: dataset.levels,
    readings: dataset.readings,
    rng,
  });
  const list = faults.map(toEvent);
  const file = path.join(options.workDir, `${dataset.name}-seed${seed}-run${run + 1}-events.csv`);
  writeFileSync(file, formatEventsCsv(list));
  options.progress(
    `${dataset.name} seed ${seed} run ${run + 1}: ${list.length} faults (${[...new Set(list.map((e) => e.kind))].join(', ')}), events in ${file}`,
  );
  const injected = applyLiveFaults(dataset.readings, faults, dataset.sigma, seed * 31 + run);
  const result = await backtest(injected, list, `seed ${seed} run ${run + 1}`);
  return { list, result };
}

/** One scorer's event outcomes and alert counts over all runs of a seed. */
interface SeedTally {
  outcomes: EventOutcome[];
  alerts: number;
  matchedAlerts: number;
}

/** Adds a seed's recall, precision and F1, and per kind its recall, times to detect, localization and coverage. */
function addSeed(summary: ScorerSummary, tally: SeedTally): void {
  const list = tally.outcomes;
  const recall = list.length ? list.filter((o) => o.detected).length / list.length : 0;
  const precision = tally.alerts ? tally.matchedAlerts / tally.alerts : 0;
  summary.recallBySeed.push(recall);
  summary.precisionBySeed.push(precision);
  summary.f1BySeed.push(precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall));
  for (const kind of new Set(list.map((o) => o.event.kind))) {
    const mine = list.filter((o) => o.event.kind === kind);
    const entry: KindSummary = summary.kinds.get(kind) ?? {
      events: 0,
      recallBySeed: [],
      ticksToDetect: [],
      localized: 0,
      localizedFaultCaused: 0,
      otherAlertsBackground: 0,
      otherAlertsNew: 0,
      detected: 0,
      coverage: [],
    };
    const detected = mine.filter((o) => o.detected);
    entry.events += mine.length;
    entry.recallBySeed.push(detected.length / mine.length);
    entry.ticksToDetect.push(...detected.map((o) => o.ticksToDetect as number));
    entry.detected += detected.length;
    entry.localized += detected.filter((o) => o.othersAlerted.length === 0).length;
    // Every injected run has the clean run's alerts, so othersNew and backgroundAlerts are set.
    entry.localizedFaultCaused += detected.filter((o) => o.othersNew?.length === 0).length;
    for (const o of detected) {
      entry.otherAlertsBackground += o.backgroundAlerts ?? 0;
      entry.otherAlertsNew += o.otherAlerts - (o.backgroundAlerts ?? 0);
    }
    entry.coverage.push(...detected.map((o) => o.coverage));
    summary.kinds.set(kind, entry);
  }
}
