import { createRng } from '../common/random.ts';
import type { StreamInjection } from './stream-inject.ts';
import type { SimulatedFault } from './simulate.ts';
import type { FaultKind } from './fault-catalogue.ts';

/**
 * The faults a demo run contains, announced on the console before they
 * happen so a viewer (and the integration test) can match each alert to its
 * cause. Two sources: the simulator's own fault plan (stuck, spike, drift,
 * dropout; about one node in ten) and a few injections the demo adds early in
 * event time, on modalities the model sees, so the first alert comes within
 * seconds of wall time whatever the seed.
 */
export interface DemoFault {
  node: string;
  /** A kind of the fault catalogue: stuck, spike, drift, dropout (simulator) or an injection kind (surge, increase, ...). */
  kind: FaultKind;
  /** `*` for a silent node. */
  modality: string;
  /** First affected event time, UTC ms. */
  fromTs: number;
  /** Last affected event time, UTC ms (approximate for injections: their length counts readings). */
  toTs: number;
  source: 'simulator' | 'demo';
}

export interface DemoInjectionPlan {
  injections: StreamInjection[];
  faults: DemoFault[];
}

/** Modalities every detector model of this project sees (the synthetic and IBRL ones share them). */
const INJECTED_MODALITIES = ['temperature', 'humidity'] as const;

/**
 * Early injections: a temperature surge some 120 ticks after the start (once
 * the model's window has filled and its slow context warmed up, 100 ticks), then a slow humidity rise,
 * on nodes picked by the seed among those the simulator leaves alone.
 */
export function planDemoInjections(options: {
  nodes: readonly string[];
  avoid?: ReadonlySet<string>;
  startTs: number;
  tickMs: number;
  seed: number;
}): DemoInjectionPlan {
  const rng = createRng(options.seed * 31 + 7);
  const candidates = options.nodes.filter((node) => !options.avoid?.has(node));
  const pool = candidates.length >= 2 ? candidates : [...options.nodes];
  const picked: string[] = [];
  while (picked.length < Math.min(2, pool.length)) {
    const node = pool[rng.int(pool.length)];
    if (!picked.includes(node)) picked.push(node);
  }
  const specs: Array<Omit<StreamInjection, 'node'> & { afterTicks: number }> = [
    { modality: INJECTED_MODALITIES[0], kind: 'surge', length: 12, afterTicks: 120 },
    { modality: INJECTED_MODALITIES[1], kind: 'increase', length: 20, afterTicks: 170 },
  ];
  const injections: StreamInjection[] = [];
  const faults: DemoFault[] = [];
  picked.forEach((node, i) => {
    const { afterTicks, ...spec } = specs[i];
    const startTs = options.startTs + afterTicks * options.tickMs;
    const span = spec.kind === 'increase' || spec.kind === 'decay' ? 2 * spec.length : spec.length;
    injections.push({ ...spec, node, startTs });
    faults.push({
      node,
      kind: spec.kind,
      modality: spec.modality,
      fromTs: startTs,
      toTs: startTs + span * options.tickMs,
      source: 'demo',
    });
  });
  return { injections, faults };
}

export function simulatorFaults(faults: readonly SimulatedFault[]): DemoFault[] {
  return faults.map((f) => ({
    node: f.node,
    kind: f.kind,
    modality: f.modality,
    fromTs: f.fromTs,
    toTs: f.toTs,
    source: 'simulator',
  }));
}

/** One console line per fault, e.g. `fault: surge on node 7 temperature from 2026-… to 2026-… (demo)`. */
export function describeFault(fault: DemoFault): string {
  const what = fault.modality === '*' ? '' : ` ${fault.modality}`;
  return `fault: ${fault.kind} on node ${fault.node}${what} from ${new Date(fault.fromTs).toISOString()} to ${new Date(fault.toTs).toISOString()} (${fault.source})`;
}
