import { describe, expect, it } from 'vitest';
import { RESULTS_END, RESULTS_START, spliceResults } from '../../../../model/eval/ibrl-command.ts';
import { renderReport, spread } from '../../../../model/eval/report.ts';
import type { EvaluationResult } from '../../../../model/eval/run.ts';
import { protocolLayout } from '../../../../model/eval/protocol.ts';

describe('report', () => {
  it('computes mean, population std, min and max', () => {
    expect(spread([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(1.25), min: 1, max: 4 });
  });

  it('replaces only the results between the markers', () => {
    const doc = `# Evaluation\n\nMethod text.\n\n${RESULTS_START}\nold\n${RESULTS_END}\n\nAfter.\n`;
    const out = spliceResults(doc, 'new table');
    expect(out).toContain('Method text.');
    expect(out).toContain('After.');
    expect(out).toContain('new table');
    expect(out).not.toContain('old');
    expect(spliceResults(undefined, 'x')).toContain(`${RESULTS_START}\nx\n${RESULTS_END}`);
  });

  it('renders the summary with spreads, the command and the per-seed counts', () => {
    const counts = (f1: number) => ({ tp: 9, fn: 1, tn: 10, fp: 0, precision: 1, recall: 0.9, f1, localization: 1 });
    const alarms = { perNodePerDay: 0.5, flaggedWindows: 0.01, days: 2 };
    const result: EvaluationResult = {
      runs: [
        {
          scorer: 'a',
          seed: 1,
          counts: counts(0.9),
          falseAlarms: alarms,
          threshold: 0.5,
          trainSeconds: 4,
          models: 2,
          bestTestThreshold: { threshold: 0.4, f1: 0.95 },
        },
        {
          scorer: 'a',
          seed: 2,
          counts: counts(0.8),
          falseAlarms: alarms,
          threshold: 0.5,
          trainSeconds: 6,
          models: 2,
          bestTestThreshold: { threshold: 0.4, f1: 0.95 },
        },
      ],
      kinds: { 1: { surge: 10 }, 2: { mirror: 10 } },
      layout: protocolLayout(500, { trainFraction: 0.6, window: 5, checkPoints: 10, margin: 5, injectionLength: 2 }),
      nodes: 3,
      modalities: ['t'],
      injectionRanges: 'training',
    };
    const md = renderReport(result, {
      command: 'wsn-watch eval ibrl --data x',
      date: 'today',
      backend: 'cpu',
      data: 'd',
    });
    expect(md).toContain('`wsn-watch eval ibrl --data x`');
    expect(md).toContain(
      '| a | 2 | 1.000 ± 0.000 (1.000–1.000) | 0.900 ± 0.000 (0.900–0.900) | 0.850 ± 0.050 (0.800–0.900) |',
    );
    // Train time per model: (4/2 + 6/2) / 2.
    expect(md).toMatch(/\| 2\.5 \|\n/);
    expect(md).toContain('| 2 | a | 0.500 | 9 | 1 | 10 | 0 |');
    expect(md).toContain('| 0.950 (at 0.400) |');
    expect(md).toContain('seed 2: mirror 10');
  });
});
