import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createLogger, redactUrl, registerSecret, scrubSecrets } from '../../../common/log.ts';
import { AlertmanagerRoute } from '../../../detector/alerts/alertmanager.ts';
import { AlertRouter } from '../../../detector/alerts/router.ts';
import { WebhookRoute } from '../../../detector/alerts/webhook.ts';
import { InfluxSink } from '../../../store/influx-sink.ts';
import { freePort } from '../../support/ports.ts';
import { FIRING_ALERT } from '../detector/alerts/sample-alert.ts';

/** A logger whose finished lines land in `lines`, exactly as they would be written to stderr. */
function capturingLogger(name: string): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger(name, 'trace', { write: (line: string) => void lines.push(line) }), lines };
}

describe('redactUrl', () => {
  it('drops userinfo and query values, keeps where the request went', () => {
    expect(redactUrl('http://admin:hunter2@influx.lab:8086/query?u=admin&p=hunter2&db=wsn')).toBe(
      'http://[redacted]@influx.lab:8086/query?u=[redacted]&p=[redacted]&db=[redacted]',
    );
    expect(redactUrl('http://127.0.0.1:9093')).toBe('http://127.0.0.1:9093');
    expect(redactUrl('http://127.0.0.1:9093/api/v2/alerts')).toBe('http://127.0.0.1:9093/api/v2/alerts');
  });

  it('hides a webhook path, which is often the secret itself', () => {
    expect(redactUrl('https://hooks.example.com/services/T01/B02/abcdefSECRET?x=1', { path: 'hide' })).toBe(
      'https://hooks.example.com/…',
    );
    expect(redactUrl('https://hooks.example.com', { path: 'hide' })).toBe('https://hooks.example.com');
  });
});

describe('scrubSecrets', () => {
  it('blanks userinfo in any URL of a text, credential query parameters and registered secrets in all their spellings', () => {
    expect(scrubSecrets('GET http://me:pw@h:1/x failed')).toBe('GET http://[redacted]@h:1/x failed');
    expect(scrubSecrets('/write?db=wsn&u=me&p=pw&precision=ms')).toBe(
      '/write?db=wsn&u=[redacted]&p=[redacted]&precision=ms',
    );
    expect(scrubSecrets('https://h/cb?token=abc123&ok=1')).toBe('https://h/cb?token=[redacted]&ok=1');
    registerSecret('p@ss "word"/ü');
    expect(scrubSecrets('raw p@ss "word"/ü, json p@ss \\"word\\"/ü, url p%40ss%20%22word%22%2F%C3%BC')).toBe(
      'raw [redacted], json [redacted], url [redacted]',
    );
  });

  it('leaves ordinary text alone and does not register short strings', () => {
    registerSecret('ab');
    expect(scrubSecrets('a tab and a cab')).toBe('a tab and a cab');
  });
});

describe('the logger', () => {
  it('blanks credential fields at any of the first levels and scrubs messages and errors', () => {
    const { logger, lines } = capturingLogger('t');
    logger.info(
      { password: 'pw-field-1', influx: { token: 'tok-field-2' }, headers: { authorization: 'Basic eHl6' } },
      'fields',
    );
    logger.error(
      { err: new Error('connect to http://u:pw-in-url-3@h:8086 refused') },
      'request to http://u:pw-in-url-3@h:8086 failed',
    );
    const text = lines.join('');
    expect(lines).toHaveLength(2);
    for (const secret of ['pw-field-1', 'tok-field-2', 'eHl6', 'pw-in-url-3']) expect(text).not.toContain(secret);
    expect(text).toContain('"password":"[redacted]"');
    expect(text).toContain('http://[redacted]@h:8086');
  });
});

describe('secrets never in logs, with their services unreachable', () => {
  it('shows neither the InfluxDB password nor the webhook secret in any line of a failing InfluxDB write and failing alert deliveries', async () => {
    const [influxPort, webhookPort, alertmanagerPort] = [await freePort(), await freePort(), await freePort()];
    const dir = mkdtempSync(path.join(tmpdir(), 'wsn-log-'));
    const file = path.join(dir, 'config.json');
    const webhookToken = 'XyZ9webhookPathToken';
    const hmacSecret = 'hmac-signing-secret-7';
    writeFileSync(
      file,
      JSON.stringify({
        webhooks: [{ url: `http://127.0.0.1:${webhookPort}/services/T0001/B0002/${webhookToken}`, secret: hmacSecret }],
      }),
    );
    const config = loadConfig({
      file,
      env: {
        WSN_INFLUX_URL: `http://admin:url-Pa55word@127.0.0.1:${influxPort}`,
        WSN_INFLUX_USERNAME: 'admin',
        WSN_INFLUX_PASSWORD: 'cfg-Pa55word!',
        WSN_ALERTMANAGER_URL: `http://am-user:am-Pa55word@127.0.0.1:${alertmanagerPort}`,
      },
    });
    const { logger, lines } = capturingLogger('secrets');
    // The config as a whole, as a careless debug line would log it.
    logger.debug({ config }, 'configuration');

    const sink = new InfluxSink({
      url: config.influx.url,
      database: 'wsn',
      auth: config.influx,
      retries: 2,
      minBackoffMs: 5,
      logger,
    });
    await expect(
      sink.writePoints([
        { measurement: 'reading', tags: { node: '1' }, fields: { temperature: 20 }, timestamp: Date.now() },
      ]),
    ).rejects.toThrow();

    const fast = { retries: 1, minBackoffMs: 5, maxBackoffMs: 10, timeoutMs: 1_000 };
    const router = new AlertRouter({
      routes: [
        new WebhookRoute(config.webhooks, fast),
        new AlertmanagerRoute({ url: config.alertmanager.url, retry: fast }),
      ],
      logger,
    });
    await router.route([FIRING_ALERT]);

    const text = lines.join('');
    expect(lines.filter((line) => line.includes('"level":40')).length).toBeGreaterThanOrEqual(4); // 2 InfluxDB retries, 2 routes
    expect(text).toContain('ECONNREFUSED');
    for (const secret of [
      'cfg-Pa55word!',
      'url-Pa55word',
      'am-Pa55word',
      webhookToken,
      hmacSecret,
      'cfg-Pa55word%21',
    ]) {
      expect(text, secret).not.toContain(secret);
    }
    // What is left still says where things went.
    expect(text).toContain(`http://127.0.0.1:${webhookPort}/…`);
    expect(text).toContain(`127.0.0.1:${influxPort}`);
  });
});
