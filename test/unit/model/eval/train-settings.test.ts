import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerEvalCommand } from '../../../../model/eval/cli.ts';
import { TRAINING_DEFAULTS } from '../../../../model/train/defaults.ts';
import { registerTrainCommand } from '../../../../model/train/cli.ts';

function optionDefaults(command: Command): Record<string, unknown> {
  return Object.fromEntries(command.options.map((option) => [option.attributeName(), option.defaultValue]));
}

describe('models trained by the evaluation', () => {
  it('use the same training settings as wsn-watch train', () => {
    const program = new Command();
    registerTrainCommand(program);
    registerEvalCommand(program);
    const train = optionDefaults(program.commands.find((c) => c.name() === 'train')!);
    const evalIbrl = optionDefaults(
      program.commands.find((c) => c.name() === 'eval')!.commands.find((c) => c.name() === 'ibrl')!,
    );
    for (const key of ['epochs', 'batchSize', 'patience'] as const) {
      expect(evalIbrl[key], key).toBe(TRAINING_DEFAULTS[key]);
      expect(train[key], key).toBe(TRAINING_DEFAULTS[key]);
    }
    // Four sequences of 8 windows per optimiser step, not one.
    expect(TRAINING_DEFAULTS.batchSize).toBe(32);
    expect(train.validationFraction).toBe(TRAINING_DEFAULTS.validationFraction);
  });
});
