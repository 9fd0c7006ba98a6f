import type { Modality } from '../common/types.ts';

/**
 * The range a modality's value can take at all, whatever the sensor. A value
 * outside it is not a sensor fault for the detector to judge (a stuck or
 * drifting sensor stays inside it) but a wrong unit, a corrupted message or a
 * broken gateway: ingest rejects it to the DLQ as `implausible`, where a
 * person can see it, instead of letting `1e308` into the model and the store.
 */
export interface PlausibleRange {
  min: number;
  max: number;
}

export type PlausibilityLimits = Record<Modality, PlausibleRange>;

/**
 * Defaults for the modalities wsn-watch knows by name, wide enough for every
 * real deployment (raw humidity a little outside 0–100 %RH is normal, and
 * faulty IBRL motes report up to 122 °C) and narrow enough to catch kelvin
 * sent as °C or millivolts sent as volts. Other modalities have no limit
 * unless the configuration (`validation.plausibility`) gives one.
 */
export const DEFAULT_PLAUSIBILITY: PlausibilityLimits = {
  /** °C: below the coldest air ever measured, above what any mote's sensor reports. */
  temperature: { min: -90, max: 150 },
  /** %RH: raw sensors read slightly below 0 and above 100. */
  humidity: { min: -10, max: 110 },
  /** lux: direct sunlight is about 120,000. */
  light: { min: 0, max: 200_000 },
  /** V: mote batteries and field supplies up to 48 V systems. */
  voltage: { min: 0, max: 60 },
};

/** The defaults with configured ranges laid over them (per modality). */
export function plausibilityLimits(configured: PlausibilityLimits = {}): PlausibilityLimits {
  return { ...DEFAULT_PLAUSIBILITY, ...configured };
}

/** Why `value` of `modality` is implausible, or null when it is within its range (or the modality has none). */
export function implausibility(modality: Modality, value: number, limits: PlausibilityLimits): string | null {
  const range = Object.hasOwn(limits, modality) ? limits[modality] : undefined;
  if (!range || (value >= range.min && value <= range.max)) return null;
  return `values.${modality} = ${value} is outside the plausible range ${range.min} to ${range.max} (validation.plausibility.${modality})`;
}
