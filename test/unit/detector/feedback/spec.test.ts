import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../../common/errors.ts';
import type { Alert } from '../../../../common/types.ts';
import {
  buildFeedback,
  checkAlertId,
  checkVerdict,
  describeFeedback,
  formatFeedbackList,
} from '../../../../detector/feedback/spec.ts';
import { FIRING_ALERT } from '../alerts/sample-alert.ts';

const NOW = Date.UTC(2026, 2, 1, 12);
const resolved: Alert = {
  ...FIRING_ALERT,
  status: 'resolved',
  probability: 0.71,
  endsAt: FIRING_ALERT.startsAt + 60_000,
};

function refused(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('FEEDBACK_INVALID');
    return (error as Error).message;
  }
  throw new Error('not refused');
}

describe('feedback marks from the operator’s input', () => {
  it('a mark takes the alert’s node, modality, peak and episode, and the operator’s verdict, note and name', () => {
    const feedback = buildFeedback(resolved, { verdict: 'false', note: ' door open ', by: 'ana' }, NOW, 'os-user');
    expect(feedback).toEqual({
      alertId: resolved.id,
      network: resolved.network,
      cluster: resolved.cluster,
      node: resolved.node,
      kind: 'anomaly',
      modality: resolved.modality,
      verdict: 'false',
      probability: 0.71,
      alertStartsAt: resolved.startsAt,
      alertEndsAt: resolved.endsAt,
      note: 'door open',
      author: 'ana',
      markedAt: NOW,
    });
    expect(buildFeedback(FIRING_ALERT, { verdict: 'true' }, NOW, 'os-user')).toMatchObject({
      author: 'os-user',
      note: '',
    });
    expect(buildFeedback(FIRING_ALERT, { verdict: 'true' }, NOW, 'os-user').alertEndsAt).toBeUndefined();
  });

  it('refuses bad input saying what is expected', () => {
    expect(refused(() => checkAlertId('12'))).toContain('alert id network/cluster/node');
    expect(refused(() => checkAlertId('a/b c/d'))).toContain('got "a/b c/d"');
    expect(checkAlertId(' lab/c1/12 ')).toBe('lab/c1/12');
    expect(refused(() => checkVerdict(undefined))).toContain('--false');
    expect(refused(() => checkVerdict('no'))).toContain('got "no"');
    expect(refused(() => buildFeedback(resolved, { verdict: 'false', note: 'x'.repeat(501) }, NOW, 'u'))).toContain(
      'at most 500',
    );
  });

  it('says what a mark does, and lists marks in columns', () => {
    const falseAlarm = buildFeedback(resolved, { verdict: 'false', by: 'ana' }, NOW, 'u');
    expect(describeFeedback(falseAlarm, { threshold: 0.73, until: NOW + 86_400_000 })).toBe(
      `alert ${resolved.id} (node ${resolved.node}, ${resolved.modality}, peak 0.710, from ${new Date(resolved.startsAt).toISOString().replace('.000Z', 'Z')}) marked a false alarm: node ${resolved.node}'s ${resolved.modality} alerts need p > 0.730 until 2026-03-02T12:00:00Z`,
    );
    expect(describeFeedback({ ...falseAlarm, verdict: 'true' })).toContain('confirmed: node');
    const table = formatFeedbackList([falseAlarm]).split('\n');
    expect(table[0]).toMatch(/^ALERT\s+VERDICT\s+NODE\s+MODALITY\s+PEAK\s+ALERT STARTED\s+MARKED\s+BY\s+NOTE$/);
    expect(table[1]).toMatch(
      new RegExp(`^${resolved.id}\\s+false alarm\\s+${resolved.node}\\s+\\S+\\s+0\\.710\\s+.*ana$`),
    );
  });

  it.each([
    [['mark', '--alert', 'lab/c1/12', '--false', '--true'], /--false or --true, not both/],
    [['mark', '--alert', 'lab/c1/12'], /say whether the alert was a false alarm/],
    [['mark', '--alert', '12', '--false'], /alert id network\/cluster\/node/],
  ])('the CLI refuses %j before touching Kafka', (args, message) => {
    const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
    const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin/wsn-watch.mjs'), 'feedback', ...args], {
      cwd: repoRoot,
      env: { ...process.env, WSN_LOG_LEVEL: 'silent', WSN_CONFIG: '', WSN_KAFKA_BROKERS: '127.0.0.1:9' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
