/**
 * The one catalogue of sensor faults wsn-watch knows: the kinds of the
 * published WSN fault taxonomies (Ni et al. 2009; Sharma, Golubchik and
 * Govindan 2010; see docs/model.md) and the short injections of the GLSL
 * paper's protocol. Training, evaluation (paper protocol and live path),
 * simulate, replay and the demo all name faults from here.
 */

export interface FaultDescription {
  /** What the data looks like. */
  looks: string;
  /** How long it typically lasts. */
  lasts: string;
}

/** Faults that real sensor networks have. */
export const TAXONOMY_FAULTS = {
  spike: { looks: 'one to three readings far from the neighbours and the node’s own course', lasts: '1–3 ticks' },
  stuck: { looks: 'the same value repeated; variance collapses, no daily cycle', lasts: 'hours to days' },
  noise: { looks: 'the right level, but variance far above the neighbours’', lasts: 'minutes to days' },
  offset: { looks: 'the course tracks the neighbours, shifted by a constant', lasts: 'until recalibrated' },
  gain: { looks: 'deviations from the node’s mean scaled', lasts: 'until recalibrated' },
  drift: { looks: 'the difference to the neighbours grows slowly', lasts: 'hours to weeks' },
  battery: { looks: 'readings depart from the neighbours as the supply voltage falls', lasts: 'hours, then death' },
  dropout: { looks: 'no readings, or intermittent gaps (a silent node)', lasts: 'ticks to forever' },
} as const satisfies Record<string, FaultDescription>;

/** How many samples each injection of the GLSL paper's IBRL protocol lasts. */
export const PAPER_INJECTION_SAMPLES = 5;

/** A paper injection: PAPER_INJECTION_SAMPLES long, and as long again to come back for a ramp. */
const paperInjection = (looks: string, ramp = false): FaultDescription => ({
  looks,
  lasts: `${PAPER_INJECTION_SAMPLES} samples${ramp ? ' and back' : ''}`,
});

/** The GLSL paper's injections (its IBRL protocol). */
export const PAPER_FAULTS = {
  scale: paperInjection('values multiplied by 0.5 or 1.5'),
  mirror: paperInjection('values reflected (sign flipped around the pivot)'),
  surge: paperInjection('the modality’s range added'),
  decay: paperInjection('a ramp down against the trend, then back', true),
  increase: paperInjection('a ramp up against the trend, then back', true),
} as const satisfies Record<string, FaultDescription>;

export type TaxonomyFaultKind = keyof typeof TAXONOMY_FAULTS;
export type PaperFaultKind = keyof typeof PAPER_FAULTS;
/** Every fault kind of the catalogue. */
export type FaultKind = TaxonomyFaultKind | PaperFaultKind;

export const TAXONOMY_FAULT_KINDS = Object.keys(TAXONOMY_FAULTS) as TaxonomyFaultKind[];
export const PAPER_FAULT_KINDS = Object.keys(PAPER_FAULTS) as PaperFaultKind[];
export const FAULT_KINDS: readonly FaultKind[] = [...TAXONOMY_FAULT_KINDS, ...PAPER_FAULT_KINDS];

export function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value);
}

/** A typical span of each modality (IBRL units), for default fault sizes in raw readings. */
export const TYPICAL_MODALITY_SPAN: Readonly<Record<string, number>> = {
  temperature: 20,
  humidity: 40,
  light: 1000,
  voltage: 0.4,
};
