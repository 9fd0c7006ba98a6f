import type { Command } from 'commander';
import { UserError } from '../common/errors.ts';
import { INTEL_LAB_DATA_URL, PAPER_DAYS, downloadIntelLab } from './download.ts';

interface DownloadFlags {
  out: string;
  url: string;
  all: boolean;
  from?: string;
  to?: string;
}

/** Registers `wsn-watch data download ibrl`. */
export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('Public data sets for evaluation');
  const download = data.command('download').description('Download a public data set');
  download
    .command('ibrl')
    .description(
      `Download the Intel Lab data file and split it into readings/<id>.txt (default: the GLSL paper's days ${PAPER_DAYS.from}..${PAPER_DAYS.to})`,
    )
    .requiredOption('--out <dir>', 'target folder (readings/ is created inside)')
    .option('--url <url>', 'data.txt.gz URL or local file', INTEL_LAB_DATA_URL)
    .option('--all', 'keep every day, not only the paper excerpt', false)
    .option('--from <day>', 'first day to keep (YYYY-MM-DD)')
    .option('--to <day>', 'last day to keep (YYYY-MM-DD)')
    .action(async (flags: DownloadFlags) => {
      for (const [name, value] of [
        ['from', flags.from],
        ['to', flags.to],
      ] as const) {
        if (value !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(value))
          throw new UserError('BAD_FLAG', `--${name} must be a day YYYY-MM-DD, got "${value}"`);
      }
      const fromDay = flags.all ? flags.from : (flags.from ?? PAPER_DAYS.from);
      const toDay = flags.all ? flags.to : (flags.to ?? PAPER_DAYS.to);
      process.stderr.write(`[data] downloading ${flags.url}\n`);
      const report = await downloadIntelLab(flags.url, flags.out, {
        fromDay,
        toDay,
        onProgress: (m) => process.stderr.write(`[data] ${m}\n`),
      });
      process.stderr.write(
        `[data] ${report.lines} lines, ${report.written} readings written for ${report.motes.length} motes, ${report.outsideDays} outside the days, ${report.skipped} skipped\n`,
      );
      for (const s of report.skippedExamples) process.stderr.write(`[data]   skipped line ${s.line}: ${s.reason}\n`);
      process.stdout.write(`${report.motes.length} motes written to ${flags.out}/readings\n`);
    });
}
