import { UserError } from '../common/errors.ts';

/** One problem in an input file, located precisely enough to fix it. */
export interface InputIssue {
  file: string;
  /** 1-based line number. */
  line: number;
  /** The offending field (e.g. `id`, `x`, `modalities`). */
  field: string;
  message: string;
}

export function formatIssue(issue: InputIssue): string {
  return `${issue.file}:${issue.line}: field ${issue.field}: ${issue.message}`;
}

/**
 * Raised when a topology file has bad records. It lists every problem found
 * (not only the first), each with file, line and field.
 */
export class TopologyInputError extends UserError {
  readonly issues: InputIssue[];

  constructor(
    unsorted: InputIssue[],
    hint = 'fix the listed lines; every node needs a unique id, numeric coordinates and known modalities',
  ) {
    // In file order (stable, so several issues on one line keep their field order).
    const issues = [...unsorted].sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
    const shown = issues.slice(0, 20).map(formatIssue);
    const more = issues.length > 20 ? `\n  … and ${issues.length - 20} more` : '';
    super('TOPOLOGY_INPUT', `${issues.length} problem(s) in topology input:\n  ${shown.join('\n  ')}${more}`, hint);
    this.name = 'TopologyInputError';
    this.issues = issues;
  }
}
