import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.ts';
import { loadConfig } from '../../../common/config.ts';
import { InfluxDashboardResults } from '../../../store/influx-results.ts';
import { createInfluxAdmin } from '../../../ops/influxdb/service.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { ownInfluxdb, type OwnService } from './own-services.ts';

// InfluxDB with auth enabled (an instance of the suite's own): the credential
// settings reach every InfluxDB client, a client without them is refused
// with a message that says so, and the password shows up in no log line.

const USER = 'wsn-admin';
const PASSWORD = 'Auth-Test-Pa55!';

describe('InfluxDB with auth enabled', () => {
  let influxdb: OwnService;

  beforeAll(async () => {
    influxdb = await ownInfluxdb({ auth: true });
    await influxdb.start();
    await createInfluxAdmin(influxdb.address, USER, PASSWORD);
    await createInfluxAdmin(influxdb.address, USER, PASSWORD); // a second start finds the user there
  });

  afterAll(async () => {
    await influxdb?.remove();
  });

  it('writes and reads with influx.username/password; is refused without them or with a wrong password; never logs the password', async () => {
    const config = loadConfig({
      env: {
        WSN_INFLUX_URL: influxdb.address,
        WSN_INFLUX_USERNAME: USER,
        WSN_INFLUX_PASSWORD: PASSWORD,
        WSN_INFLUX_DATABASE: 'wsn_auth',
      },
    });
    const lines: string[] = [];
    const logger = createLogger('auth', 'trace', { write: (line: string) => void lines.push(line) });

    const sink = new InfluxSink({
      url: config.influx.url,
      database: config.influx.database,
      auth: config.influx,
      retries: 0,
      logger,
    });
    const tick = Date.UTC(2026, 0, 1);
    await sink.write({
      frames: [
        {
          network: 'auth',
          cluster: 'c1',
          tick,
          topologyVersion: 'v',
          nodes: [{ node: '1', values: { temperature: 21.5 }, staleTicks: 0, silent: false }],
        },
      ],
      scores: [],
      alerts: [],
    });
    expect(
      (await sink.query<{ value_temperature: number }>('SELECT value_temperature FROM anomaly')).map(
        (row) => row.value_temperature,
      ),
    ).toEqual([21.5]);

    const dashboard = new InfluxDashboardResults({
      url: config.influx.url,
      database: config.influx.database,
      auth: config.influx,
      pollMs: 60_000,
    });
    // The dashboard reads with the same credentials: the network of the point just written (readings only) is listed.
    await expect(dashboard.networks()).resolves.toEqual(['auth']);

    const anonymous = new InfluxSink({
      url: config.influx.url,
      database: config.influx.database,
      retries: 1,
      minBackoffMs: 5,
      logger,
    });
    await expect(anonymous.query('SELECT * FROM reading')).rejects.toThrow(
      /unable to parse authentication credentials|authorization failed|401/i,
    );
    const wrong = new InfluxSink({
      url: config.influx.url,
      database: 'wsn_auth_other',
      auth: { username: USER, password: 'not-it' },
      retries: 1,
      minBackoffMs: 5,
      logger,
    });
    await expect(
      wrong.writePoints([{ measurement: 'reading', tags: { node: '1' }, fields: { temperature: 1 }, timestamp: tick }]),
    ).rejects.toThrow(/authorization failed|401/i);

    expect(lines.filter((line) => line.includes('InfluxDB request failed')).length).toBeGreaterThanOrEqual(2);
    expect(lines.join('')).not.toContain(PASSWORD);
    await sink.dropDatabase();
  });
});
