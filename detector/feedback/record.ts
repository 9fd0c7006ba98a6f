/**
 * Writing operator feedback: the record on the feedback topic (what the
 * detectors follow) and its point in InfluxDB (what the dashboards and a
 * retraining read). Shared by `wsn-watch feedback` and the dashboard's
 * feedback endpoint.
 */
import { SIDE_TOPIC_PARTITIONS } from '../../common/constants.ts';
import type { Config } from '../../common/config.ts';
import { FEEDBACK_PARTITIONS, decodeFeedback, encodeFeedback, type Feedback } from '../../common/feedback.ts';
import { UserError } from '../../common/errors.ts';
import type { Logger } from '../../common/log.ts';
import type { KeyedTable, Transport } from '../../common/transport.ts';
import type { Alert } from '../../common/types.ts';
import { feedbackPoint } from '../../store/feedback.ts';
import type { InfluxSink } from '../../store/influx-sink.ts';
import { recordCopySink, writeRecordCopy } from '../../store/record-copy.ts';
import { withTransport } from '../open-table.ts';
import { buildFeedback, checkAlertId, checkVerdict, describeFeedback, type FeedbackInput } from './spec.ts';
import { thresholdRaises } from './thresholds.ts';

export interface MarkOutcome {
  feedback: Feedback;
  /** What the mark does, in one line. */
  message: string;
  /** Set when the InfluxDB copy failed (the mark still applies: the topic is the truth). */
  warning?: string;
}

/** Where an alert is looked up by id: its newest transition (a resolved one carries the episode's peak). */
export interface AlertLookup {
  /** Where it looks, for the message about an unknown alert, e.g. "the alerts topic wsn.alerts". */
  where: string;
  find(id: string): Promise<Alert | undefined>;
}

export class FeedbackRecorder {
  private readonly table: KeyedTable;
  private readonly sink: InfluxSink;

  constructor(
    private readonly config: Config,
    private readonly transport: Transport,
    private readonly logger?: Logger,
  ) {
    this.table = transport.table({ topic: config.feedback.topic, partitions: FEEDBACK_PARTITIONS });
    this.sink = recordCopySink(config.influx);
  }

  /** Marks the alert `input.alert` (found with `lookup`) false or true; a UserError for bad input or an unknown alert. */
  async mark(input: FeedbackInput, lookup: AlertLookup, defaultAuthor: string): Promise<MarkOutcome> {
    const id = checkAlertId(input.alert);
    checkVerdict(input.verdict); // before the lookup: bad input costs no Kafka read
    const alert = await lookup.find(id);
    if (!alert)
      throw new UserError(
        'FEEDBACK_UNKNOWN_ALERT',
        `no alert "${id}" on ${lookup.where}`,
        'mark an alert the detectors raised: its id is network/cluster/node, as the dashboard, Alertmanager and the alerts topic show it',
      );
    const now = Date.now();
    const feedback = buildFeedback(alert, input, now, defaultAuthor);
    await this.table.put([{ key: feedback.alertId, value: encodeFeedback(feedback) }]);
    const [raise] = thresholdRaises([feedback], this.config.feedback, now);
    const outcome: MarkOutcome = { feedback, message: describeFeedback(feedback, raise) };
    const failed = await writeRecordCopy(this.sink, feedbackPoint(feedback), this.config.influx.url);
    if (failed) {
      outcome.warning = failed.warning;
      this.logger?.warn({ alert: feedback.alertId, err: failed.error.message }, 'feedback not copied to InfluxDB');
    }
    return outcome;
  }

  /** Every record of the feedback topic, newest mark first; unreadable records are reported to `skip`. */
  async list(skip: (key: string, reason: string) => void = () => undefined): Promise<Feedback[]> {
    const out: Feedback[] = [];
    for (const [key, value] of await this.table.readToEnd()) {
      try {
        out.push(decodeFeedback(value));
      } catch (error) {
        skip(key, (error as Error).message);
      }
    }
    return out.sort((a, b) => b.markedAt - a.markedAt || a.alertId.localeCompare(b.alertId));
  }

  async close(): Promise<void> {
    await this.table.close().catch(() => undefined);
  }

  /**
   * An alert lookup over the alerts topic (`wsn.alerts`, key = alert id): the
   * newest transition of the id. Reads the topic to its end, so it suits a
   * command, not a request path. The topic is created as the detector
   * creates it (not compacted) if it does not exist yet.
   */
  alertsTopicLookup(topic: string): AlertLookup {
    const find = async (id: string): Promise<Alert | undefined> => {
      await this.transport.ensureTopics([{ topic, partitions: SIDE_TOPIC_PARTITIONS }]);
      const table = this.transport.table({ topic, partitions: SIDE_TOPIC_PARTITIONS });
      try {
        const value = (await table.readToEnd()).get(id);
        return value ? readAlert(value, topic, id) : undefined;
      } finally {
        await table.close().catch(() => undefined);
      }
    };
    return { where: `the alerts topic ${topic}`, find };
  }
}

/** An alert record of the alerts topic; a UserError naming the topic and key when it is not one. */
function readAlert(value: Buffer, topic: string, id: string): Alert {
  let alert: Partial<Alert> | undefined;
  try {
    alert = JSON.parse(value.toString()) as Partial<Alert>;
  } catch {
    alert = undefined;
  }
  const usable =
    typeof alert === 'object' &&
    alert !== null &&
    alert.id === id &&
    [alert.network, alert.cluster, alert.node, alert.kind, alert.modality].every((v) => typeof v === 'string') &&
    Number.isFinite(alert.probability) &&
    Number.isFinite(alert.startsAt);
  if (!usable)
    throw new UserError(
      'FEEDBACK_UNKNOWN_ALERT',
      `the newest record of "${id}" on the alerts topic ${topic} is not an alert wsn-watch wrote`,
      'check --alerts-topic: it must be the topic the detectors publish alerts on',
    );
  return alert as Alert;
}

/** Opens the recorder, runs `use`, and closes everything whatever happens; Kafka failures become a clear error. */
export function withRecorder<T>(config: Config, use: (recorder: FeedbackRecorder) => Promise<T>): Promise<T> {
  const what = `the feedback topic ${config.feedback.topic}`;
  return withTransport(config, { what, logName: 'feedback' }, async (transport) => {
    const recorder = new FeedbackRecorder(config, transport);
    try {
      return await use(recorder);
    } finally {
      await recorder.close();
    }
  });
}
