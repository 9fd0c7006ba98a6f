import { describe, expect, it } from 'vitest';
import type { Alert, Frame } from '../../../common/types.ts';
import { ClusterAlerts, alertPolicyFromConfig } from '../../../detector/alerts/tracker.ts';
import {
  alertmanagerAlerts,
  config,
  influx,
  makeFrames,
  nodeCourse,
  uniqueId,
  useDetectorSuite,
  WARMUP_TICKS,
} from './harness.ts';
import { waitFor } from '../../support/wait.ts';

// Real Kafka, InfluxDB and Alertmanager; the detector runs as a child process with the real (small) model.
const suite = useDetectorSuite('wsn-detector-it-alerts');

/**
 * Replays the target node's course under the model through the alert state
 * machine for the candidate thresholds and returns one under which the target
 * node fires an anomaly alert and then resolves it. The test streams frames
 * only up to that resolution, so nothing can fire again after it.
 */
async function pickThreshold(
  frames: Frame[],
  target: { cluster: string; node: string },
): Promise<{ threshold: number; fired: Alert; firedAt: number; resolvedAt: number }> {
  const { ticks, observations, thresholds, probabilities } = await nodeCourse(frames, target.cluster, target.node);
  for (const threshold of thresholds) {
    const policy = alertPolicyFromConfig({
      ...config,
      detector: { ...config.detector, threshold, alertAfterTicks: 2, resolveAfterTicks: 2 },
    });
    const alerts = new ClusterAlerts(frames[0].network, target.cluster, policy);
    let fired: Alert | undefined;
    let firedAt = -1;
    for (const tick of ticks) {
      for (const alert of alerts.observe(tick, observations.get(tick)!)) {
        if (alert.node !== target.node || alert.kind !== 'anomaly') continue;
        if (alert.status === 'firing' && !fired) {
          fired = alert;
          firedAt = tick;
        } else if (alert.status === 'resolved' && fired) {
          return { threshold, fired, firedAt, resolvedAt: tick };
        }
      }
    }
  }
  throw new Error(
    `no threshold makes node ${target.node} fire and resolve; its probabilities: ${probabilities.join(', ')}`,
  );
}

describe('alerts reach Alertmanager (real Alertmanager, Kafka, InfluxDB)', () => {
  it('a node whose probability stays high fires an alert with network/cluster/node/modality labels, which then resolves', async () => {
    const id = uniqueId();
    const network = `it-alerts-${id}`;
    const database = `wsn_it_alerts_${id}`;
    const frames = makeFrames(network, 2, 0, WARMUP_TICKS + 40, {
      surge: { cluster: 0, node: 0, ticks: [WARMUP_TICKS + 18, WARMUP_TICKS + 24] },
    });
    const target = { cluster: 'c0', node: frames[0].nodes[0].node };
    const plan = await pickThreshold(frames, target);
    const detector = await suite.start({ id, replicaId: 'alerts', database, threshold: plan.threshold });

    const send = (list: Frame[]) => suite.send(id, list);
    // Up to the tick the alert fires at: Alertmanager must show it firing.
    await send(frames.filter((f) => f.tick <= plan.firedAt));
    await waitFor(
      'the alert in Alertmanager',
      async () => (await alertmanagerAlerts(network, target.node)).length > 0,
      120_000,
    );
    const [firing] = await alertmanagerAlerts(network, target.node);
    expect(firing.labels).toEqual({
      alertname: 'WsnNodeAnomaly',
      network,
      cluster: target.cluster,
      node: target.node,
      modality: plan.fired.modality,
      severity: 'critical',
    });
    expect(firing.status.state).toBe('active');
    expect(new Date(firing.startsAt).getTime()).toBe(plan.fired.startsAt);
    expect(new Date(firing.endsAt).getTime()).toBeGreaterThan(Date.now());
    expect(firing.annotations.dashboard).toBe(
      `${config.dashboard.publicUrl.replace(/\/+$/, '')}/node/${network}/${target.node}`,
    );
    expect(Number(firing.annotations.probability)).toBeGreaterThan(plan.threshold);

    // The rest of the stream brings the node back below the lower threshold: the alert resolves
    // (endsAt in the past, so Alertmanager no longer lists it as active).
    await send(frames.filter((f) => f.tick > plan.firedAt && f.tick <= plan.resolvedAt));
    await waitFor(
      'the alert to resolve in Alertmanager',
      async () => (await alertmanagerAlerts(network, target.node)).length === 0,
      120_000,
    );

    detector.child.kill('SIGTERM');
    expect((await detector.exited).code).toBe(0);
    await influx(database).dropDatabase();
  });
});
