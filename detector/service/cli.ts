/**
 * `wsn-watch detect`: the streaming detector service on Kafka, writing
 * InfluxDB, `wsn.anomalies`, `wsn.alerts`, Alertmanager and webhooks.
 * docs/detector-service.md describes it.
 */
import { FRAME_PARTITIONS } from '../../common/constants.ts';
import type { Command } from 'commander';
import { integerArg, probabilityArg } from '../../common/cli-parsers.ts';
import { configOrigin, loadConfig } from '../../common/config.ts';
import { UserError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import { TOPICS } from '../../common/types.ts';
import { runDetect, type DetectOptions } from './run.ts';
import { DETECTOR_GROUP } from './service.ts';

export function registerDetectCommand(program: Command): void {
  program
    .command('detect')
    .description(
      'Run the streaming detector: consume wsn.frames, score clusters with the trained model, write InfluxDB, publish wsn.anomalies and route alerts',
    )
    .option('--model <dir>', 'trained model directory (config detector.model, default models/default)')
    .option(
      '--registry',
      "score with the network's promoted version from the model registry and swap to each newly promoted one without a restart (config registry.follow)",
    )
    .option('--group <id>', 'consumer group; replicas with the same group share the clusters', DETECTOR_GROUP)
    .option('--frames-topic <name>', 'topic to read frames from', TOPICS.frames)
    .option('--anomalies-topic <name>', 'topic to publish cluster scores on', TOPICS.anomalies)
    .option('--alerts-topic <name>', 'topic to publish alert transitions on', TOPICS.alerts)
    .option('--state-topic <name>', 'compacted topic of per-cluster checkpoints', TOPICS.detectorState)
    .option(
      '--frame-partitions <n>',
      'partitions of the frames topic if it has to be created',
      integerArg('--frame-partitions', 1),
      FRAME_PARTITIONS,
    )
    .option('--influx-database <name>', 'InfluxDB database (config influx.database)')
    .option(
      '--http-port <port>',
      '/metrics, /healthz, /readyz port (config detector.httpPort; 0 = any free port)',
      integerArg('--http-port', 0, 65535),
    )
    .option(
      '--threshold <p>',
      'alert threshold on the node probability (config detector.threshold; default: the threshold stored with the model)',
      probabilityArg('--threshold'),
    )
    .option('--replica-id <id>', 'name of this replica in logs and the pipeline measurement')
    .option('--no-alertmanager', 'do not send alerts to Alertmanager')
    .option('--no-topology', "do not follow wsn.topology (clusters use the model's training graph)")
    .addHelpText(
      'after',
      '\nStop with SIGTERM or Ctrl-C: the batch in flight is finished, written, checkpointed and committed first.\n\nExample:\n  wsn-watch detect --model models/default --group wsn-detector\n',
    )
    .action(async (options: DetectOptions, command: Command) => {
      const globals = command.optsWithGlobals<{ config?: string }>();
      if (options.registry && options.model)
        throw new UserError(
          'DETECT_MODEL_CONFLICT',
          '--model DIR pins one model folder, --registry follows the promoted version: give one of them',
        );
      const loadOptions = {
        file: globals.config,
        flags: {
          'detector.model': options.model,
          'registry.follow': options.registry ? true : undefined,
          'detector.httpPort': options.httpPort,
          'detector.threshold': options.threshold,
          'influx.database': options.influxDatabase,
        },
      };
      const config = loadConfig(loadOptions);
      await runDetect(
        config,
        { ...options, thresholdOrigin: configOrigin('detector.threshold', loadOptions) },
        createLogger('detector'),
      );
    });
}
