import path from 'node:path';

/**
 * The order of the top-level folders: a file may import its own folder and
 * any folder of a lower layer, never a higher one. Shared code, transport,
 * topology, sources, the model lab and the result store sit beneath the
 * services; the services follow the data flow (ingest → detector →
 * dashboards); the wiring (demo, CLI, benchmarks) sits on top.
 */
export const LAYERS: Record<string, number> = {
  common: 0,
  transport: 1,
  ops: 1,
  topology: 2,
  sources: 3,
  model: 4,
  store: 5,
  ingest: 6,
  detector: 7,
  dashboards: 8,
  embedded: 9,
  bin: 10,
  bench: 10,
  scripts: 10,
};

export function folderOf(file: string): string | undefined {
  const folder = file.split('/')[0];
  return folder in LAYERS ? folder : undefined;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;

/** The repository paths a file imports through relative specifiers (static, re-exports and dynamic). */
export function relativeImports(file: string, source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((match) =>
    path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1])),
  );
}

/** One message per import of a folder from a higher layer. */
export function importViolations(file: string, imports: string[]): string[] {
  const from = folderOf(file);
  if (from === undefined) return [];
  return imports.flatMap((target) => {
    const to = folderOf(target);
    if (to === undefined || LAYERS[to] <= LAYERS[from]) return [];
    return [`${file} imports ${target} (${to} comes after ${from})`];
  });
}

/** A command file: it declares a CLI command's flags (cli.ts, drift-cli.ts), or helps to (cli-options.ts, cli-parsers.ts). */
export const isCommandFile = (file: string): boolean => /(?:^|[/-])cli(?:-options|-parsers)?\.ts$/.test(file);

/**
 * One message per import of a command file by a file that is not one itself
 * nor an entry point (bin/, a `main.ts`): command files only parse flags, so
 * nothing else has a reason to import them.
 */
export function commandImportViolations(file: string, imports: string[]): string[] {
  if (isCommandFile(file) || file.startsWith('bin/') || file.endsWith('/main.ts')) return [];
  return imports.filter(isCommandFile).map((target) => `${file} imports the command file ${target}`);
}
