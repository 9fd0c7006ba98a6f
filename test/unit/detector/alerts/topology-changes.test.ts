import { describe, expect, it } from 'vitest';
import { coversAlert, type Silence } from '../../../../common/silences.ts';
import { SilenceGate, type SilenceLookup } from '../../../../detector/silences/gate.ts';
import { toPostableAlert } from '../../../../detector/alerts/alertmanager.ts';
import { summarize } from '../../../../detector/alerts/route.ts';
import {
  nodeChanges,
  TopologyAlerts,
  type Placement,
  type TopologyChangeSource,
} from '../../../../detector/alerts/topology-changes.ts';

const T = 31_000;

/** A followed topology that knows the versions given, in that order. */
function sourceOf(versions: Record<string, Record<string, [cluster: string, position: string]>>): TopologyChangeSource {
  const known = new Map(
    Object.entries(versions).map(([version, nodes]) => [
      version,
      new Map<string, Placement>(
        Object.entries(nodes).map(([node, [cluster, position]]) => [node, { cluster, position }]),
      ),
    ]),
  );
  return {
    placements: (version) => known.get(version),
    previousVersion: (version) => {
      const order = [...known.keys()];
      const i = order.indexOf(version);
      return i > 0 ? order[i - 1] : undefined;
    },
  };
}

describe('nodeChanges', () => {
  it('without the topology: the list difference, added and removed', () => {
    const changes = nodeChanges(
      'a',
      { version: 'v1', nodes: ['1', '2', '3'] },
      { version: 'v2', nodes: ['1', '3', '4'] },
    );
    expect(changes).toEqual([
      { node: '4', change: 'added' },
      { node: '2', change: 'removed' },
    ]);
  });

  it('with the topology: a node moved inside the cluster or in from another is moved; one moved away is left to its new cluster', () => {
    const source = sourceOf({
      v1: { '1': ['a', '0,0'], '2': ['a', '1,0'], '3': ['a', '2,0'], '5': ['b', '9,0'], '6': ['b', '9,1'] },
      v2: { '1': ['a', '0,0'], '2': ['a', '1,1'], '3': ['b', '8,0'], '6': ['a', '3,0'], '7': ['a', '0,1'] },
    });
    const inA = nodeChanges(
      'a',
      { version: 'v1', nodes: ['1', '2', '3'] },
      { version: 'v2', nodes: ['1', '2', '6', '7'] },
      source,
    );
    expect(inA).toEqual([
      { node: '2', change: 'moved' },
      { node: '6', change: 'moved' },
      { node: '7', change: 'added' },
    ]);
    const inB = nodeChanges('b', { version: 'v1', nodes: ['5', '6'] }, { version: 'v2', nodes: ['3'] }, source);
    expect(inB).toEqual([
      { node: '3', change: 'moved' },
      { node: '5', change: 'removed' },
    ]);
  });

  it('waits (undefined) while the topology does not know the new version', () => {
    const source = sourceOf({ v1: { '1': ['a', '0,0'] } });
    expect(nodeChanges('a', { version: 'v1', nodes: ['1'] }, { version: 'v2', nodes: ['1', '2'] }, source)).toBe(
      undefined,
    );
  });
});

describe('TopologyAlerts', () => {
  const dashboard = (network: string, node: string): string => `http://dash/${network}/${node}`;

  it('fires one informational alert per change and resolves it after the hold time of event time', () => {
    const alerts = new TopologyAlerts('lab', 'a', 3 * T, dashboard);
    const fired = alerts.observe(5 * T, [{ node: '7', change: 'added' }], 'abc123', 4 * T);
    expect(fired).toEqual([
      expect.objectContaining({
        id: 'lab/a/7/topology',
        kind: 'topology',
        status: 'firing',
        node: '7',
        change: 'added',
        topologyVersion: 'abc123',
        startsAt: 4 * T,
        modality: 'none',
      }),
    ]);
    expect(alerts.observe(6 * T, [], 'abc123')).toEqual([]);
    expect(alerts.firing()).toHaveLength(1);
    const resolved = alerts.observe(7 * T, [], 'abc123');
    expect(resolved).toEqual([expect.objectContaining({ status: 'resolved', endsAt: 7 * T, change: 'added' })]);
    expect(alerts.firing()).toEqual([]);
  });

  it("a node's newer change replaces its alert: the old one resolves, the new one fires", () => {
    const alerts = new TopologyAlerts('lab', 'a', 100 * T, dashboard);
    alerts.observe(T, [{ node: '2', change: 'added' }], 'v1');
    const out = alerts.observe(2 * T, [{ node: '2', change: 'moved' }], 'v2');
    expect(out.map((a) => `${a.status}:${a.change}`)).toEqual(['resolved:added', 'firing:moved']);
  });

  it('is told apart from an anomaly at Alertmanager: its own alert name, severity info, the change as a label', () => {
    const [alert] = new TopologyAlerts('lab', 'a', T, dashboard).observe(T, [{ node: '3', change: 'moved' }], 'v9');
    const posted = toPostableAlert(alert, 2 * T, 60_000);
    expect(posted.labels).toMatchObject({
      alertname: 'WsnTopologyChange',
      severity: 'info',
      node: '3',
      change: 'moved',
    });
    expect(posted.annotations.topology_version).toBe('v9');
    expect(summarize(alert)).toContain('moved in topology v9');
  });
});

describe('topology alerts and maintenance silences', () => {
  const NOW = Date.UTC(2026, 2, 1, 12);
  const lookup = (silences: Silence[]): SilenceLookup => ({
    coveringAlert: (network, node, modality) => silences.find((s) => coversAlert(s, network, node, modality)),
    nodeSilenced: (network, node) => silences.some((s) => s.network === network && s.node === node),
  });
  const silence = (node: string, modality?: string): Silence => ({
    id: `sil-${node}`,
    network: 'lab',
    node,
    ...(modality ? { modality } : {}),
    startsAt: NOW,
    endsAt: NOW + 3_600_000,
    reason: 'battery swap',
    author: 'ana',
    createdAt: NOW,
  });

  it('only a silence of the whole node holds its topology alert back; a modality silence or another node does not', () => {
    const fired = new TopologyAlerts('lab', 'a', T, (network, node) => `${network}/${node}`).observe(
      T,
      [
        { node: '1', change: 'added' },
        { node: '2', change: 'removed' },
        { node: '3', change: 'moved' },
      ],
      'v2',
    );
    const gate = new SilenceGate(lookup([silence('1'), silence('2', 'humidity')]));
    const outcome = gate.apply(fired, fired, NOW, T);
    expect(outcome.suppressed.map((a) => a.node)).toEqual(['1']);
    expect(outcome.alerts.map((a) => `${a.node} ${a.change}`)).toEqual(['2 removed', '3 moved']);
  });
});
