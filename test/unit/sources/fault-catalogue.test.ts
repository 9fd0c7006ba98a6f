import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, PAPER_FAULT_KINDS, TAXONOMY_FAULT_KINDS, isFaultKind } from '../../../sources/fault-catalogue.ts';
import { LIVE_FAULT_KINDS } from '../../../sources/live-faults.ts';
import { Simulation } from '../../../sources/simulate.ts';

describe('the fault catalogue', () => {
  it('holds the taxonomy and the paper kinds once each', () => {
    expect(TAXONOMY_FAULT_KINDS).toEqual(['spike', 'stuck', 'noise', 'offset', 'gain', 'drift', 'battery', 'dropout']);
    expect(PAPER_FAULT_KINDS).toEqual(['scale', 'mirror', 'surge', 'decay', 'increase']);
    expect(new Set(FAULT_KINDS).size).toBe(FAULT_KINDS.length);
    expect(isFaultKind('offset')).toBe(true);
    expect(isFaultKind('silence')).toBe(false);
  });

  it('names every fault the live-path evaluation and the simulator produce', () => {
    for (const kind of LIVE_FAULT_KINDS) expect(isFaultKind(kind)).toBe(true);
    const simulated = new Simulation({ nodes: 40, seed: 3, faults: true, startTs: 0 });
    expect(simulated.faults.length).toBeGreaterThan(0);
    for (const fault of simulated.faults) expect(isFaultKind(fault.kind), fault.kind).toBe(true);
  });
});

describe('the offline injector', () => {
  it('injects every kind of the catalogue, and nothing else', async () => {
    const { INJECTION_KINDS, TAXONOMY_KINDS } = await import('../../../sources/inject.ts');
    expect(new Set([...INJECTION_KINDS, ...TAXONOMY_KINDS])).toEqual(new Set(FAULT_KINDS));
  });
});
