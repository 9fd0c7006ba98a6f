import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { fractionArg, integerArg, oneOfArg, positiveArg, probabilityArg } from '../../../common/cli-parsers.ts';

describe('command-line value parsers', () => {
  it('accept what they describe', () => {
    expect(integerArg('--n', 1, 10)('7')).toBe(7);
    expect(positiveArg('--speed')('0.5')).toBe(0.5);
    expect(probabilityArg('--threshold')('0')).toBe(0);
    expect(fractionArg('--split')('1')).toBe(1);
    expect(oneOfArg('--format', ['csv', 'json'] as const)('json')).toBe('json');
  });

  it('refuse anything else, naming the flag, what it needs and what was given', () => {
    expect(() => integerArg('--n', 1, 10)('11')).toThrow(
      new InvalidArgumentError('--n needs an integer in [1, 10], got "11"'),
    );
    expect(() => integerArg('--n', 1)('1.5')).toThrow('--n needs an integer >= 1, got "1.5"');
    expect(() => integerArg('--n')('')).toThrow('--n needs an integer, got ""');
    expect(() => positiveArg('--speed')('-1')).toThrow('--speed needs a positive number, got "-1"');
    expect(() => probabilityArg('--threshold')('1.2')).toThrow('--threshold needs a probability in [0, 1], got "1.2"');
    expect(() => fractionArg('--split')('0')).toThrow('--split needs a number in (0, 1], got "0"');
    expect(() => oneOfArg('--format', ['csv', 'json'] as const)('xml')).toThrow(
      '--format must be one of csv, json, got "xml"',
    );
  });
});
