import { describe, expect, it } from 'vitest';
// The page's own module, loaded as the browser loads it (plain ES module, no build step).
import {
  clusterColours,
  naturalCompare,
  nodeState,
  probabilityColour,
  probabilityState,
} from '../../../dashboards/web/public/map.js';

describe('map colours', () => {
  it('classifies a probability against the threshold', () => {
    expect(probabilityState(0.1, 0.5)).toBe('ok');
    expect(probabilityState(0.29, 0.5)).toBe('ok');
    expect(probabilityState(0.3, 0.5)).toBe('warn');
    expect(probabilityState(0.499, 0.5)).toBe('warn');
    expect(probabilityState(0.5, 0.5)).toBe('anomalous');
    expect(probabilityState(0.75, 0.8)).toBe('warn');
  });

  it("marks a node anomalous by the detector's verdict, not by the display threshold", () => {
    // The model's threshold (0.28) flagged it, below the display threshold 0.5.
    expect(nodeState({ probability: 0.3, isAnomaly: true }, 0.5)).toBe('anomalous');
    // Above the display threshold but not anomalous for the detector: at most a warning.
    expect(nodeState({ probability: 0.7, isAnomaly: false }, 0.5)).toBe('warn');
    expect(nodeState({ probability: 0.1, isAnomaly: false }, 0.5)).toBe('ok');
  });

  it('runs green → amber at the threshold → red at 1, clamping outside [0, 1]', () => {
    expect(probabilityColour(0, 0.5)).toBe('rgb(63, 185, 80)');
    expect(probabilityColour(0.2, 0.5)).toBe('rgb(63, 185, 80)');
    expect(probabilityColour(0.5, 0.5)).toBe('rgb(210, 153, 34)');
    expect(probabilityColour(1, 0.5)).toBe('rgb(248, 81, 73)');
    expect(probabilityColour(7, 0.5)).toBe(probabilityColour(1, 0.5));
    expect(probabilityColour(-1, 0.5)).toBe(probabilityColour(0, 0.5));
    // Redder as the probability rises above the threshold.
    const red = (p: number) => Number(/rgb\((\d+)/.exec(probabilityColour(p, 0.5))![1]);
    expect(red(0.9)).toBeGreaterThan(red(0.6));
  });

  it('gives clusters stable colours in natural order, whatever order they arrive in', () => {
    const a = clusterColours(['c10', 'c2', 'c1']);
    const b = clusterColours(['c1', 'c2', 'c10']);
    expect([...a.entries()]).toEqual([...b.entries()]);
    expect([...a.keys()]).toEqual(['c1', 'c2', 'c10']);
    expect(new Set(a.values()).size).toBe(3);
    expect(['n10', 'n9', 'n1'].sort(naturalCompare)).toEqual(['n1', 'n9', 'n10']);
  });
});
