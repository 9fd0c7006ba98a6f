import { UserError } from '../common/errors.ts';
import { createRng, type Rng } from '../common/random.ts';
import type { Reading } from '../common/types.ts';
import { INJECTION_KINDS, type InjectionKind } from './inject.ts';
import { TYPICAL_MODALITY_SPAN } from './fault-catalogue.ts';

/**
 * Anomalies injected into a live reading stream (replay and simulate), with
 * the same kinds as the offline injector of sources/inject.ts. An
 * injection hits `length` consecutive readings of one node and modality from
 * `start` on (ramps — decay, increase — take `length` more readings to come
 * back). Sizes are in the reading's own unit; defaults follow the paper:
 * scale ×1.5, surge +range, ramps and drift range/40 per reading, noise
 * std range/10, where range is a typical span of the modality.
 *
 * Spec on the command line: `node:modality:kind[=magnitude]:start:length`,
 * start an IBRL epoch (integer below 1e9) or an ISO 8601 time with zone, e.g.
 * `12:temperature:surge:20000:5` or `7:humidity:scale=0.5:2004-03-06T10:00:00Z:8`.
 */
export interface StreamInjection {
  node: string;
  modality: string;
  kind: InjectionKind;
  magnitude?: number;
  /** Starts at the first reading with event time ≥ startTs … */
  startTs?: number;
  /** … or with IBRL epoch ≥ startEpoch. */
  startEpoch?: number;
  length: number;
}

export function parseInjection(spec: string): StreamInjection {
  const parts = spec.split(':');
  const hint =
    'write node:modality:kind[=magnitude]:start:length, e.g. 12:temperature:surge:20000:5 (start: IBRL epoch or ISO time)';
  if (parts.length < 5)
    throw new UserError(
      'INJECT_INVALID',
      `--inject ${spec}: expected 5 fields separated by ':', found ${parts.length}`,
      hint,
    );
  const [node, modality, kindSpec] = parts;
  const length = Number(parts[parts.length - 1]);
  const start = parts.slice(3, -1).join(':');
  const [kind, magnitudeText] = kindSpec.split('=');
  if (!(INJECTION_KINDS as readonly string[]).includes(kind)) {
    throw new UserError(
      'INJECT_INVALID',
      `--inject ${spec}: unknown kind "${kind}"`,
      `use one of ${INJECTION_KINDS.join(', ')}`,
    );
  }
  if (!Number.isInteger(length) || length < 1)
    throw new UserError('INJECT_INVALID', `--inject ${spec}: length must be a positive integer`, hint);
  const magnitude = magnitudeText === undefined ? undefined : Number(magnitudeText);
  if (magnitude !== undefined && !Number.isFinite(magnitude))
    throw new UserError('INJECT_INVALID', `--inject ${spec}: magnitude "${magnitudeText}" is not a number`, hint);
  const injection: StreamInjection = {
    node,
    modality,
    kind: kind as InjectionKind,
    length,
    ...(magnitude === undefined ? {} : { magnitude }),
  };
  if (/^\d+$/.test(start) && Number(start) < 1e9) return { ...injection, startEpoch: Number(start) };
  const ts = Date.parse(start);
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(start) || Number.isNaN(ts)) {
    throw new UserError(
      'INJECT_INVALID',
      `--inject ${spec}: start "${start}" is neither an IBRL epoch nor an ISO time with zone`,
      hint,
    );
  }
  return { ...injection, startTs: ts };
}

interface Active {
  injection: StreamInjection;
  /** Readings of the node and modality affected so far. */
  count: number;
  stuckAt: number | null;
  rng: Rng;
}

/** Applies injections to a stream of readings, in order; keeps a log of what it changed. */
export class StreamInjector {
  private readonly active: Active[];
  /** Every changed value, for ground truth. */
  readonly applied: Array<{
    node: string;
    modality: string;
    kind: InjectionKind;
    ts: number;
    original: number;
    injected: number;
  }> = [];

  constructor(injections: StreamInjection[], seed = 1) {
    this.active = injections.map((injection, i) => ({ injection, count: 0, stuckAt: null, rng: createRng(seed + i) }));
  }

  apply(reading: Reading, epoch?: number): Reading {
    let out = reading;
    for (const a of this.active) {
      const { injection } = a;
      if (injection.node !== reading.node || !(injection.modality in reading.values)) continue;
      const started =
        injection.startEpoch !== undefined
          ? epoch !== undefined && epoch >= injection.startEpoch
          : reading.ts >= (injection.startTs ?? Infinity);
      const span =
        injection.kind === 'decay' || injection.kind === 'increase' ? 2 * injection.length : injection.length;
      if (!started || a.count >= span) continue;
      const original = out.values[injection.modality];
      const injected = this.value(a, original);
      a.count++;
      out = { ...out, values: { ...out.values, [injection.modality]: injected } };
      this.applied.push({
        node: reading.node,
        modality: injection.modality,
        kind: injection.kind,
        ts: reading.ts,
        original,
        injected,
      });
    }
    return out;
  }

  private value(a: Active, v: number): number {
    const { kind, magnitude, length, modality } = a.injection;
    const range = TYPICAL_MODALITY_SPAN[modality] ?? Math.max(1, Math.abs(v));
    const i = a.count;
    switch (kind) {
      case 'scale':
        return v * (magnitude ?? 1.5);
      case 'mirror':
        return -v;
      case 'surge':
        return v + (magnitude ?? range);
      case 'decay':
      case 'increase': {
        const step = (magnitude ?? range / 40) * (i < length ? i + 1 : 2 * length - i - 1);
        return kind === 'decay' ? v - step : v + step;
      }
      case 'stuck':
        a.stuckAt ??= v;
        return a.stuckAt;
      case 'drift':
        return v + (magnitude ?? range / 40) * (i + 1);
      case 'noise':
        return v + a.rng.normal() * (magnitude ?? range / 10);
    }
  }
}
