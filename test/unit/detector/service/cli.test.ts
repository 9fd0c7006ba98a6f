import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerDetectCommand } from '../../../../detector/service/cli.ts';

function program(): Command {
  const root = new Command('wsn-watch').exitOverride().configureOutput({ writeErr: () => undefined });
  registerDetectCommand(root);
  for (const command of root.commands) command.exitOverride().configureOutput({ writeErr: () => undefined });
  return root;
}

/** Parses `detect` with these flags; a bad value is refused before anything starts. */
const parse = (args: string[]): Promise<Command> => program().parseAsync(['node', 'wsn-watch', 'detect', ...args]);

describe('wsn-watch detect flags', () => {
  it('refuses a frame partition count below 1, naming the flag and the value', async () => {
    await expect(parse(['--frame-partitions', '0'])).rejects.toThrow(
      '--frame-partitions needs an integer >= 1, got "0"',
    );
  });

  it('refuses an HTTP port outside [0, 65535] and an empty one', async () => {
    await expect(parse(['--http-port', '70000'])).rejects.toThrow(
      '--http-port needs an integer in [0, 65535], got "70000"',
    );
    await expect(parse(['--http-port', ''])).rejects.toThrow('--http-port needs an integer in [0, 65535], got ""');
  });

  it('refuses a threshold that is not a probability', async () => {
    await expect(parse(['--threshold', '1.5'])).rejects.toThrow('--threshold needs a probability in [0, 1], got "1.5"');
  });
});
