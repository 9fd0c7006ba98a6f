/**
 * Rows of text cells as aligned columns, two spaces apart, the first row
 * usually a header; the last column is not padded (it may be long: a reason,
 * a note, a path), and no line ends in spaces.
 */
export function formatColumns(rows: ReadonlyArray<readonly string[]>): string {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
