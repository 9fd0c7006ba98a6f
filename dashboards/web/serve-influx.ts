import type { Config } from '../../common/config.ts';
import { createLogger, redactUrl, type Logger } from '../../common/log.ts';
import { TOPICS } from '../../common/types.ts';
import { FeedbackRecorder } from '../../detector/feedback/record.ts';
import { createTransport } from '../../transport/index.ts';
import type { FeedbackEndpointOptions } from './feedback-endpoint.ts';
import { InfluxDashboardResults } from '../../store/influx-results.ts';
import { serveDashboard, type DashboardServer } from './server.ts';
import { storedModelThreshold } from './model-threshold.ts';

/**
 * The distributed deployment's dashboard: the live page over the results in
 * InfluxDB and the alerts in Alertmanager, coloured at the detector's
 * threshold in force (the configured one, else the one stored with the model).
 * Prints where it serves and what it reads; resolves with the running server.
 */
export async function serveInfluxDashboard(config: Config, pollMs: number): Promise<DashboardServer> {
  const logger = createLogger('dashboard');
  const results = new InfluxDashboardResults({
    url: config.influx.url,
    database: config.influx.database,
    auth: config.influx,
    alertmanagerUrl: config.alertmanager.url,
    pollMs,
    logger,
  });
  const configured = config.detector.threshold;
  const stored = configured === undefined ? await storedModelThreshold(config.detector.model) : undefined;
  const threshold = configured ?? stored;
  const thresholdFrom =
    configured !== undefined
      ? 'detector.threshold'
      : stored !== undefined
        ? `stored with the model ${config.detector.model}`
        : `no threshold configured and none stored with ${config.detector.model}`;
  const feedback = openFeedback(config, logger);
  const server = await serveDashboard({
    store: results,
    topology: results,
    host: config.dashboard.host,
    port: config.dashboard.port,
    threshold,
    logger,
    ...(feedback ? { feedback: feedback.endpoint } : {}),
  });
  process.stderr.write(
    feedback
      ? `dashboard: feedback buttons on (POST /api/feedback with the bearer token, topic ${config.feedback.topic})\n`
      : 'dashboard: feedback buttons off (set feedback.token / WSN_FEEDBACK_TOKEN to turn them on)\n',
  );
  process.stderr.write(
    `dashboard: colouring probabilities at ${threshold ?? 'the default threshold'} (${thresholdFrom})\n`,
  );
  process.stderr.write(
    `dashboard: serving ${server.url} (results from ${redactUrl(config.influx.url)} database ${config.influx.database}); Ctrl-C stops it\n`,
  );
  return feedback ? { ...server, close: () => server.close().finally(() => feedback.close()) } : server;
}

/** The feedback endpoint's writer when a token is configured: marks go to the feedback topic and InfluxDB. */
function openFeedback(
  config: Config,
  logger: Logger,
): { endpoint: FeedbackEndpointOptions; close(): Promise<void> } | undefined {
  const token = config.feedback.token;
  if (!token) return undefined;
  const transport = createTransport(config, { logger });
  const recorder = new FeedbackRecorder(config, transport, logger);
  return {
    endpoint: {
      token,
      mark: (input, lookup, author) => recorder.mark(input, lookup, author),
      // An alert no longer on the dashboard (Alertmanager forgot it): its newest transition on the alerts topic.
      lookup: recorder.alertsTopicLookup(TOPICS.alerts),
    },
    async close() {
      await recorder.close();
      await transport.close().catch(() => undefined);
    },
  };
}
