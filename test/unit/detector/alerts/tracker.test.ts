import { describe, expect, it } from 'vitest';
import {
  ClusterAlerts,
  DEFAULT_RESOLVE_RATIO,
  alertPolicyFromConfig,
  dashboardLink,
  dominatedNodes,
  mostResponsibleModality,
  type AlertPolicy,
  type NodeObservation,
} from '../../../../detector/alerts/tracker.ts';
import { decodeCheckpoint, encodeCheckpoint, type ClusterCheckpoint } from '../../../../detector/state/checkpoint.ts';
import { loadConfig } from '../../../../common/config.ts';
import { DEFAULT_ALERT_THRESHOLD } from '../../../../common/thresholds.ts';
import { sampleCheckpoint } from '../state/sample-checkpoint.ts';
import { testPolicy } from './sample-alert.ts';

const policy = testPolicy({ alertAfterTicks: 3 });

const obs = (probability: number | null, extra: Partial<NodeObservation> = {}): NodeObservation => ({
  node: 'n1',
  probability,
  reconstructionError: { temperature: 0.1, humidity: 0.7, voltage: 0.2 },
  silent: false,
  ...extra,
});

/** Feeds one probability per tick (ticks 1000, 2000, …) and returns the changes per tick as `status@tick`. */
function run(alerts: ClusterAlerts, probabilities: Array<number | null | 'silent'>, startTick = 1000): string[] {
  const out: string[] = [];
  probabilities.forEach((p, i) => {
    const tick = startTick + i * 1000;
    const changes = alerts.observe(tick, [p === 'silent' ? obs(null, { silent: true }) : obs(p)]);
    for (const change of changes) out.push(`${change.kind}:${change.status}@${tick}`);
  });
  return out;
}

describe('ClusterAlerts', () => {
  it('fires only after k consecutive ticks above the threshold, starting at the first of them', () => {
    const alerts = new ClusterAlerts('lab', 'c1', policy);
    expect(run(alerts, [0.9, 0.9, 0.1, 0.9, 0.9])).toEqual([]);
    const fired = alerts.observe(6000, [obs(0.95)]);
    expect(fired).toEqual([
      expect.objectContaining({
        id: 'lab/c1/n1',
        kind: 'anomaly',
        status: 'firing',
        modality: 'humidity',
        startsAt: 4000,
        probability: 0.95,
        dashboardUrl: 'http://dash/node/lab/n1',
      }),
    ]);
  });

  it('a probability equal to the threshold does not count as above it', () => {
    const alerts = new ClusterAlerts('lab', 'c1', policy);
    expect(run(alerts, [0.5, 0.5, 0.5, 0.5])).toEqual([]);
  });

  it('stays firing between the two thresholds (hysteresis) and resolves after r ticks below the lower one', () => {
    const alerts = new ClusterAlerts('lab', 'c1', policy);
    const changes = run(alerts, [0.9, 0.9, 0.9, 0.45, 0.45, 0.45, 0.3, 0.45, 0.3, 0.3, 0.9]);
    // fires at tick 3000; 0.45 is below 0.5 but above 0.4 → keeps firing; one 0.3 then a 0.45 resets the count.
    expect(changes).toEqual(['anomaly:firing@3000', 'anomaly:resolved@10000']);
  });

  it('deduplicates: one firing alert per node however long the anomaly lasts, and re-sends list it once', () => {
    const alerts = new ClusterAlerts('lab', 'c1', policy);
    expect(run(alerts, Array(20).fill(0.99))).toEqual(['anomaly:firing@3000']);
    expect(alerts.firing()).toHaveLength(1);
    expect(alerts.firing()[0]).toMatchObject({ id: 'lab/c1/n1', status: 'firing', startsAt: 1000 });
  });

  it('ticks without a score neither fire nor resolve', () => {
    const alerts = new ClusterAlerts('lab', 'c1', policy);
    expect(run(alerts, [0.9, 0.9, null, 0.9, 0.9])).toEqual([]);
    expect(run(alerts, [0.9, 0.1, null, 0.1, 0.1], 6000)).toEqual(['anomaly:firing@6000', 'anomaly:resolved@9000']);
  });

  it('a silent node fires a silent alert at once and resolves after r reporting ticks', () => {
    const alerts = new ClusterAlerts('lab', 'c1', policy);
    expect(run(alerts, ['silent', 'silent', 0.1, 'silent', 0.1, 0.1])).toEqual([
      'silent:firing@1000',
      'silent:resolved@6000',
    ]);
  });

  it('going silent while an anomaly alert fires resolves it and fires the silent one', () => {
    const alerts = new ClusterAlerts('lab', 'c1', policy);
    expect(run(alerts, [0.9, 0.9, 0.9, 'silent'])).toEqual([
      'anomaly:firing@3000',
      'anomaly:resolved@4000',
      'silent:firing@4000',
    ]);
    expect(alerts.firing().map((a) => a.kind)).toEqual(['silent']);
    expect(alerts.firing()[0].modality).toBe('none');
  });

  it('a node that leaves the cluster has its alert resolved', () => {
    const alerts = new ClusterAlerts('lab', 'c1', policy);
    run(alerts, [0.9, 0.9, 0.9]);
    const changes = alerts.observe(4000, [obs(0.1, { node: 'n2' })]);
    expect(changes).toEqual([expect.objectContaining({ node: 'n1', status: 'resolved', endsAt: 4000 })]);
    expect(alerts.firing()).toEqual([]);
  });

  it('survives a JSON round trip mid-run (checkpoint) and continues exactly where it was', () => {
    const original = new ClusterAlerts('lab', 'c1', policy);
    run(original, [0.9, 0.9]);
    const restored = new ClusterAlerts('lab', 'c1', policy, JSON.parse(JSON.stringify(original.toJSON())));
    expect(run(restored, [0.9], 3000)).toEqual(['anomaly:firing@3000']);
    expect(restored.firing()[0].startsAt).toBe(1000);
  });
});

/** Scripted cluster ticks: per tick, probability per node (errors scale with it unless given). */
function runCluster(
  alerts: ClusterAlerts,
  ticks: Array<Record<string, number | { p: number; errors: Record<string, number> }>>,
  neighbours?: Record<string, string[]>,
): string[] {
  const out: string[] = [];
  ticks.forEach((row, i) => {
    const tick = (i + 1) * 1000;
    const observations: NodeObservation[] = Object.entries(row).map(([node, value]) => {
      const p = typeof value === 'number' ? value : value.p;
      const errors = typeof value === 'number' ? { temperature: p, humidity: p / 2 } : value.errors;
      return {
        node,
        probability: p,
        reconstructionError: errors,
        silent: false,
        ...(neighbours ? { neighbours: neighbours[node] } : {}),
      };
    });
    for (const change of alerts.observe(tick, observations)) out.push(`${change.node}:${change.status}@${tick}`);
  });
  return out;
}

describe('ClusterAlerts: alerts last as long as the fault', () => {
  const longPolicy: AlertPolicy = { ...policy, alertAfterTicks: 2, resolveThreshold: 0.25, resolveAfterTicks: 10 };

  it('a persistent fault whose probability dips below the threshold for a few ticks stays one firing alert', () => {
    const alerts = new ClusterAlerts('lab', 'c1', longPolicy);
    // 60 ticks of fault: mostly 0.8–0.95, with dips to 0.3–0.45 (below the threshold, above the resolve level)
    // and a few to 0.1 (below the resolve level, but fewer than 10 in a row).
    const fault = Array.from({ length: 60 }, (_, i) =>
      i % 7 === 3 ? 0.35 : i % 11 === 5 ? 0.1 : i % 13 === 0 ? 0.45 : 0.9,
    );
    fault[0] = 0.9;
    for (let i = 20; i < 29; i++) fault[i] = 0.1; // nine ticks in a row clearly below: still not enough
    const changes = run(alerts, [0.1, 0.1, ...fault]);
    expect(changes).toEqual(['anomaly:firing@4000']);
    expect(alerts.firing()).toHaveLength(1);
    // The fault ends: 10 clear ticks resolve it, at the 10th.
    const end = run(alerts, Array(10).fill(0.05), 64_000);
    expect(end).toEqual(['anomaly:resolved@73000']);
  });

  it('a sudden jump while the alert fires keeps it firing, even when the model scores the tick low', () => {
    const alerts = new ClusterAlerts('lab', 'c1', { ...policy, resolveAfterTicks: 3 });
    expect(run(alerts, [0.9, 0.9, 0.9])).toEqual(['anomaly:firing@3000']);
    // Two low ticks, then a jump scored low (the model saw nothing), then two low ticks:
    // the jump restarts the count, so five low-scored ticks in a row do not resolve.
    const changes: string[] = [];
    [0.05, 0.05, 'jump', 0.05, 0.05].forEach((p, i) => {
      const observation = p === 'jump' ? obs(0.05, { jump: 'temperature' }) : obs(p as number);
      for (const change of alerts.observe(4000 + i * 1000, [observation])) changes.push(change.status);
    });
    expect(changes).toEqual([]);
    expect(alerts.observe(9000, [obs(0.05)]).map((change) => change.status)).toEqual(['resolved']);
  });
  it('names the modality with the largest reconstruction error over the ticks that fired it', () => {
    const alerts = new ClusterAlerts('lab', 'c1', { ...policy, alertAfterTicks: 2 });
    alerts.observe(1000, [obs(0.9, { reconstructionError: { temperature: 0.1, humidity: 2.0 } })]);
    const fired = alerts.observe(2000, [obs(0.9, { reconstructionError: { temperature: 0.8, humidity: 0.2 } })]);
    expect(fired[0]).toMatchObject({ node: 'n1', modality: 'humidity', status: 'firing' });
  });

  it('the default policy resolves at half the threshold after 10 ticks', () => {
    const config = loadConfig({ env: {} });
    const p = alertPolicyFromConfig(config, 0.3);
    expect(p).toMatchObject({ threshold: 0.3, resolveAfterTicks: 10, alertAfterTicks: 2, localizationRatio: 0.5 });
    expect(p.resolveThreshold).toBeCloseTo(0.3 * DEFAULT_RESOLVE_RATIO);
    expect(DEFAULT_RESOLVE_RATIO).toBe(0.5);
  });
});

describe('alertPolicyFromConfig: one threshold', () => {
  it('uses the model’s stored threshold unless the user sets one; the shared default only without either', () => {
    const unset = loadConfig({ env: {} });
    expect(unset.detector.threshold).toBeUndefined();
    expect(alertPolicyFromConfig(unset, 0.281).threshold).toBe(0.281);
    expect(alertPolicyFromConfig(unset).threshold).toBe(DEFAULT_ALERT_THRESHOLD);
    const set = loadConfig({ env: { WSN_THRESHOLD: '0.7' } });
    expect(alertPolicyFromConfig(set, 0.281).threshold).toBe(0.7);
  });
});

describe('ClusterAlerts: localization', () => {
  const localPolicy: AlertPolicy = { ...policy, alertAfterTicks: 2, resolveAfterTicks: 3 };
  // A star: f in the middle, a, b, c around it; d is far away (no edge to f).
  const star = { f: ['a', 'b', 'c'], a: ['f'], b: ['f'], c: ['f'], d: [] };

  it('a single faulty node with three elevated neighbours alerts once, on the faulty node', () => {
    const alerts = new ClusterAlerts('lab', 'c1', localPolicy);
    const tick = {
      f: { p: 0.995, errors: { temperature: 4.0, humidity: 0.3 } },
      a: { p: 0.8, errors: { temperature: 0.5, humidity: 0.2 } },
      b: { p: 0.7, errors: { temperature: 0.4, humidity: 0.1 } },
      c: { p: 0.75, errors: { temperature: 0.3, humidity: 0.3 } },
      d: 0.05,
    };
    const changes = runCluster(alerts, Array(10).fill(tick), star);
    expect(changes).toEqual(['f:firing@2000']);
    expect(alerts.firing().map((a) => [a.node, a.modality])).toEqual([['f', 'temperature']]);
  });

  it('without a graph the whole cluster counts as neighbours', () => {
    const alerts = new ClusterAlerts('lab', 'c1', localPolicy);
    const tick = {
      f: { p: 0.995, errors: { temperature: 4.0 } },
      a: { p: 0.8, errors: { temperature: 0.5 } },
      b: { p: 0.7, errors: { temperature: 0.4 } },
    };
    expect(runCluster(alerts, Array(5).fill(tick))).toEqual(['f:firing@2000']);
  });

  it('two strong simultaneous faults on neighbouring nodes both alert', () => {
    const alerts = new ClusterAlerts('lab', 'c1', localPolicy);
    const tick = {
      f: { p: 0.995, errors: { temperature: 4.0 } },
      a: { p: 0.97, errors: { humidity: 3.0 } },
      b: { p: 0.7, errors: { temperature: 0.4 } },
      c: 0.1,
      d: 0.1,
    };
    const changes = runCluster(alerts, Array(5).fill(tick), star);
    expect(changes.sort()).toEqual(['a:firing@2000', 'f:firing@2000']);
    expect(Object.fromEntries(alerts.firing().map((a) => [a.node, a.modality]))).toEqual({
      f: 'temperature',
      a: 'humidity',
    });
  });

  it('a node far from the fault (no edge) is not suppressed', () => {
    const alerts = new ClusterAlerts('lab', 'c1', localPolicy);
    const tick = {
      f: { p: 0.995, errors: { temperature: 4.0 } },
      a: 0.1,
      b: 0.1,
      c: 0.1,
      d: { p: 0.8, errors: { temperature: 0.5 } },
    };
    expect(runCluster(alerts, Array(3).fill(tick), star).sort()).toEqual(['d:firing@2000', 'f:firing@2000']);
  });

  it('a neighbour that fired before the stronger fault appeared resolves once dominated', () => {
    const alerts = new ClusterAlerts('lab', 'c1', localPolicy);
    const early = { f: 0.2, a: { p: 0.8, errors: { temperature: 0.5 } }, b: 0.1, c: 0.1, d: 0.1 };
    const later = {
      f: { p: 0.995, errors: { temperature: 4.0 } },
      a: { p: 0.8, errors: { temperature: 0.5 } },
      b: 0.1,
      c: 0.1,
      d: 0.1,
    };
    const changes = runCluster(alerts, [early, early, later, later, later, later], star);
    expect(changes).toEqual(['a:firing@2000', 'f:firing@4000', 'a:resolved@5000']);
  });

  it('ratio 0 turns localization off', () => {
    const observations: NodeObservation[] = [
      { node: 'f', probability: 0.99, reconstructionError: { t: 4 }, silent: false },
      { node: 'a', probability: 0.7, reconstructionError: { t: 0.1 }, silent: false },
    ];
    expect([...dominatedNodes(observations, 0.5, 0.5)]).toEqual(['a']);
    expect([...dominatedNodes(observations, 0.5, 0)]).toEqual([]);
  });

  it('a neighbour with a much weaker probability but its own large reconstruction error is not suppressed', () => {
    const observations: NodeObservation[] = [
      { node: 'f', probability: 0.999, reconstructionError: { t: 4 }, silent: false },
      { node: 'a', probability: 0.6, reconstructionError: { t: 3 }, silent: false },
    ];
    expect([...dominatedNodes(observations, 0.5, 0.5)]).toEqual([]);
  });
});

describe('alert state in the cluster checkpoint', () => {
  const checkpoint = (alerts: ClusterAlerts): ClusterCheckpoint =>
    sampleCheckpoint({
      lastTick: 2000,
      shape: { modalities: ['temperature'], window: 2, gruLayers: 1, gruUnits: 1 },
      state: { nodes: ['n1'], windows: new Float32Array(2), hidden: new Float32Array(1), filled: 0 },
      alerts: alerts.toJSON(),
      savedAt: 0,
    });

  it('round-trips mid-run, with the modality sums, through encode/decode', () => {
    const original = new ClusterAlerts('lab', 'c1', policy);
    original.observe(1000, [obs(0.9, { reconstructionError: { temperature: 0.1, humidity: 3 } })]);
    original.observe(2000, [obs(0.9, { reconstructionError: { temperature: 1, humidity: 0.1 } })]);
    const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint(original)));
    expect(decoded.alerts.n1.errors).toEqual({ temperature: 1.1, humidity: 3.1 });
    const restored = new ClusterAlerts('lab', 'c1', policy, decoded.alerts);
    const fired = restored.observe(3000, [obs(0.9, { reconstructionError: { temperature: 1, humidity: 0.1 } })]);
    expect(fired[0]).toMatchObject({ status: 'firing', modality: 'humidity', startsAt: 1000 });
  });

  it('restores a checkpoint written before the modality sums existed', () => {
    const old = JSON.parse(encodeCheckpoint(checkpoint(new ClusterAlerts('lab', 'c1', policy))));
    old.alerts = { n1: { above: 2, aboveSince: 1000, clear: 0, firing: null } };
    const decoded = decodeCheckpoint(JSON.stringify(old));
    const restored = new ClusterAlerts('lab', 'c1', policy, decoded.alerts);
    expect(restored.observe(3000, [obs(0.9)])[0]).toMatchObject({
      status: 'firing',
      startsAt: 1000,
      modality: 'humidity',
    });
  });
});

describe('mostResponsibleModality', () => {
  it('picks the largest finite error', () => {
    expect(mostResponsibleModality({ a: 0.1, b: Number.NaN, c: 0.3 })).toBe('c');
    expect(mostResponsibleModality({})).toBe('none');
  });
});

describe('dashboardLink', () => {
  it('appends /node/<network>/<node> to a base URL', () => {
    expect(dashboardLink('http://127.0.0.1:8080/', 'lab', 'c1', '7')).toBe('http://127.0.0.1:8080/node/lab/7');
    expect(dashboardLink('http://h/base', 'my lab', 'c1', 'a/b')).toBe('http://h/base/node/my%20lab/a%2Fb');
  });

  it('fills a template (e.g. a Grafana drill-down) instead when the URL has placeholders', () => {
    const grafana =
      'http://127.0.0.1:3000/d/wsn-node/node-drill-down?var-network={network}&var-node={node}&var-cluster={cluster}';
    expect(dashboardLink(grafana, 'lab', 'c 1', '7')).toBe(
      'http://127.0.0.1:3000/d/wsn-node/node-drill-down?var-network=lab&var-node=7&var-cluster=c%201',
    );
  });
});
