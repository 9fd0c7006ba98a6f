import { formatColumns } from '../common/columns.ts';
import { displayPath } from './paths.ts';
import type { ServiceState } from './services.ts';

/** One line per service, aligned: name, state, version, address, pid, log file. */
export function formatStatusTable(states: readonly ServiceState[], cwd: string = process.cwd()): string {
  const rows = [
    ['SERVICE', 'STATE', 'VERSION', 'ADDRESS', 'PID', 'LOG'],
    ...states.map((s) => [
      s.name,
      s.state,
      s.version ?? '-',
      s.address,
      s.pid === undefined ? '-' : String(s.pid),
      displayPath(s.logFile, cwd),
    ]),
  ];
  return `${formatColumns(rows)}\n`;
}
