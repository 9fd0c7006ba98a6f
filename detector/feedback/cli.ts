/**
 * `wsn-watch feedback mark|list`: operator feedback on alerts on the
 * compacted feedback topic (config feedback.topic), copied to InfluxDB for
 * the dashboards. docs/operations.md walks through them.
 */
import type { Command } from 'commander';
import type { Config } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { osUser } from '../../common/os-user.ts';
import { TOPICS } from '../../common/types.ts';
import { subcommandConfig, tableCommandGroup } from '../table-cli.ts';
import { withRecorder } from './record.ts';
import { formatFeedbackList } from './spec.ts';

interface CommonFlags {
  network?: string;
  topic?: string;
}

interface MarkFlags extends CommonFlags {
  alert?: string;
  false?: boolean;
  true?: boolean;
  note?: string;
  by?: string;
  alertsTopic: string;
}

function configOf(command: Command, flags: CommonFlags): Config {
  return subcommandConfig(command, { network: flags.network, 'feedback.topic': flags.topic });
}

async function mark(options: MarkFlags, command: Command): Promise<void> {
  if (options.false && options.true) throw new UserError('FEEDBACK_INVALID', 'give --false or --true, not both');
  const verdict = options.false ? 'false' : options.true ? 'true' : undefined;
  const config = configOf(command, options);
  const outcome = await withRecorder(config, (recorder) =>
    recorder.mark(
      { alert: options.alert, verdict, note: options.note, by: options.by },
      recorder.alertsTopicLookup(options.alertsTopic),
      osUser(),
    ),
  );
  if (outcome.warning) process.stderr.write(`feedback: warning: ${outcome.warning}\n`);
  process.stdout.write(`${outcome.feedback.alertId}\t${outcome.message}\n`);
}

async function list(options: CommonFlags & { json?: boolean }, command: Command): Promise<void> {
  const config = configOf(command, options);
  const records = (
    await withRecorder(config, (recorder) =>
      recorder.list((key, reason) =>
        process.stderr.write(`feedback: skipping the unreadable record ${key}: ${reason}\n`),
      ),
    )
  ).filter((f) => f.network === config.network);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(records)}\n`);
    return;
  }
  process.stdout.write(
    records.length === 0 ? `no feedback in network ${config.network}\n` : `${formatFeedbackList(records)}\n`,
  );
}

const EXAMPLES = `
Examples:
  wsn-watch feedback mark --alert lab/c2/12 --false --note "door opened every morning"
  wsn-watch feedback mark --alert lab/c2/12 --true --note "the heater really failed"
  wsn-watch feedback list

A false alarm raises the node's threshold (for the alert's modality) to a bit above
the alert's peak probability (feedback.margin), at most feedback.maxThreshold, for
feedback.expireAfterMs; every detector applies it from its next tick. A true mark
resets the node's raise. Every mark is also written to InfluxDB (measurement feedback).`;

export function registerFeedbackCommands(program: Command): void {
  const { group: feedback, common } = tableCommandGroup(program, {
    name: 'feedback',
    description: 'operator feedback on alerts: mark one a false alarm (raises its node’s threshold) or right',
    examples: EXAMPLES,
    commonOptions: [['--topic <name>', 'feedback topic (config feedback.topic, default wsn.feedback)']],
  });
  common(
    feedback
      .command('mark')
      .description('mark an alert a false alarm (--false) or a real problem (--true)')
      .option('--alert <id>', 'alert id network/cluster/node (required)')
      .option('--false', 'the alert was a false alarm')
      .option('--true', 'the alert was right')
      .option('--note <text>', 'why, shown on the dashboards')
      .option('--by <name>', 'who (default the OS user)')
      .option(
        '--alerts-topic <name>',
        'topic the detectors publish alerts on, where the alert is looked up',
        TOPICS.alerts,
      ),
  ).action(mark);
  common(
    feedback
      .command('list')
      .description('the feedback of the network, newest mark first')
      .option('--json', 'JSON instead of a table'),
  ).action(list);
}
