import { describe, expect, it } from 'vitest';
import { ClusterAlerts, dashboardLink, mostResponsibleModality, type AlertPolicy, type NodeObservation } from '../../../../detector/alerts/tracker.ts';

const policy: AlertPolicy = {
  threshold: 0.5,
  resolveThreshold: 0.4,
  alertAfterTicks: 3,
  resolveAfterTicks: 2,
  dashboardUrl: (network, node) => `http://dash/node/${network}/${node}`,
};

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
      expect.objectContaining({ id: 'lab/c1/n1', kind: 'anomaly', status: 'firing', modality: 'humidity', startsAt: 4000, probability: 0.95, dashboardUrl: 'http://dash/node/lab/n1' }),
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
    expect(run(alerts, ['silent', 'silent', 0.1, 'silent', 0.1, 0.1])).toEqual(['silent:firing@1000', 'silent:resolved@6000']);
  });

  it('going silent while an anomaly alert fires resolves it and fires the silent one', () => {
    const alerts = new ClusterAlerts('lab', 'c1', policy);
    expect(run(alerts, [0.9, 0.9, 0.9, 'silent'])).toEqual(['anomaly:firing@3000', 'anomaly:resolved@4000', 'silent:firing@4000']);
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
    const grafana = 'http://127.0.0.1:3000/d/wsn-node/node-drill-down?var-network={network}&var-node={node}&var-cluster={cluster}';
    expect(dashboardLink(grafana, 'lab', 'c 1', '7')).toBe('http://127.0.0.1:3000/d/wsn-node/node-drill-down?var-network=lab&var-node=7&var-cluster=c%201');
  });
});
