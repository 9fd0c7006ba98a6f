import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../common/types.ts';
import { formatDemoFaultSummary, summarizeDemoFaults } from '../../../embedded/demo-summary.ts';
import type { FaultKind } from '../../../sources/fault-catalogue.ts';
import type { DemoFault } from '../../../sources/demo-faults.ts';

const TICK = 30_000;
const at = (tick: number): number => tick * TICK;
const fault = (node: string, kind: FaultKind, modality: string, from: number, to: number): DemoFault => ({
  node,
  kind,
  modality,
  fromTs: at(from),
  toTs: at(to),
  source: 'demo',
});
const firing = (node: string, startTick: number, modality = 'temperature'): Alert => ({
  id: `d/c1/${node}`,
  kind: 'anomaly',
  status: 'firing',
  network: 'd',
  cluster: 'c1',
  node,
  modality,
  probability: 0.9,
  startsAt: at(startTick),
  dashboardUrl: '',
});
const resolved = (alert: Alert, endTick: number): Alert => ({ ...alert, status: 'resolved', endsAt: at(endTick) });

describe('demo closing summary', () => {
  it('lists detected, missed and unreached faults and the other nodes that alerted', () => {
    const faults = [
      fault('7', 'surge', 'temperature', 40, 52),
      fault('9', 'increase', 'humidity', 90, 130),
      fault('3', 'stuck', 'light', 100, 400),
      fault('4', 'drift', 'temperature', 300, 600),
      fault('5', 'stuck', 'humidity', 500, 900),
    ];
    const seven = firing('7', 41);
    const stranger = firing('12', 200, 'humidity');
    const summary = summarizeDemoFaults({
      faults,
      alerts: [seven, resolved(seven, 60), stranger],
      newestTick: at(450),
      tickMs: TICK,
      graceTicks: 20,
      modalities: ['temperature', 'humidity', 'voltage'],
      clusterOf: new Map(),
      nodes: 12,
    });
    expect(summary.outcomes.map((o) => [o.fault.node, o.status])).toEqual([
      ['7', 'detected'],
      ['9', 'missed'],
      ['3', 'not seen by the model'],
      ['4', 'missed'],
      ['5', 'not reached'],
    ]);
    expect(summary.outcomes[0]).toMatchObject({ ticksToDetect: 1, alertModality: 'temperature', stillFiring: false });
    expect(summary.others.map((s) => s.node)).toEqual(['12']);
    const lines = formatDemoFaultSummary(summary);
    expect(lines[0]).toBe(
      'demo: faults: 1 detected, 2 missed, 1 not reached in event time, 1 in a modality the model does not see',
    );
    expect(lines).toContain(
      '  detected: surge on node 7 temperature from 1970-01-01T00:20:00Z: alert on node 7 (temperature) 1 tick(s) after it began',
    );
    expect(lines[lines.length - 1]).toBe(
      '  other nodes alerted (no fault of their own): node 12 (humidity) at 1970-01-01T01:40:00Z',
    );
  });

  it('says so when no other node alerted and the alert is still firing', () => {
    const alert = firing('7', 45);
    const summary = summarizeDemoFaults({
      faults: [fault('7', 'stuck', 'temperature', 40, 400)],
      alerts: [alert],
      newestTick: at(100),
      tickMs: TICK,
      graceTicks: 20,
      modalities: ['temperature'],
      clusterOf: new Map(),
      nodes: 4,
    });
    const lines = formatDemoFaultSummary(summary);
    expect(lines[1]).toMatch(/5 tick\(s\) after it began, still firing$/);
    expect(lines[2]).toBe('  other nodes alerted: none');
  });
});
