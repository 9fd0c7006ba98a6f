import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../common/config.ts';
import { UserError } from '../../../../common/errors.ts';
import { FeedbackRecorder } from '../../../../detector/feedback/record.ts';
import { MemoryTransport } from '../../../../transport/memory.ts';
import { FIRING_ALERT } from '../alerts/sample-alert.ts';

describe('looking an alert up on the alerts topic', () => {
  const transport = new MemoryTransport();
  const config = loadConfig({ env: { WSN_CONFIG: '', WSN_INFLUX_URL: 'http://127.0.0.1:1' } });
  const recorder = new FeedbackRecorder(config, transport);
  afterAll(async () => {
    await recorder.close();
    await transport.close();
  });

  it('finds the newest transition of the id, and refuses a record that is not an alert, naming the topic', async () => {
    const producer = await transport.producer();
    const resolved = { ...FIRING_ALERT, status: 'resolved', probability: 0.95, endsAt: FIRING_ALERT.startsAt + 1 };
    await producer.send('alerts', [
      { key: FIRING_ALERT.id, value: JSON.stringify(FIRING_ALERT) },
      { key: FIRING_ALERT.id, value: JSON.stringify(resolved) },
      { key: 'lab/c1/8', value: '{"hello":' },
    ]);
    const lookup = recorder.alertsTopicLookup('alerts');
    expect(lookup.where).toBe('the alerts topic alerts');
    expect(await lookup.find(FIRING_ALERT.id)).toEqual(resolved);
    expect(await lookup.find('lab/c1/9')).toBeUndefined();
    const failure = await lookup.find('lab/c1/8').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UserError);
    expect((failure as UserError).message).toBe(
      'the newest record of "lab/c1/8" on the alerts topic alerts is not an alert wsn-watch wrote',
    );
    await producer.close();
  });
});
