import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LAYERS, commandImportViolations, folderOf, importViolations, relativeImports } from './layers.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function sourceFiles(): string[] {
  const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.mjs'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return tracked
    .split('\n')
    .filter((file) => file !== '' && !file.startsWith('test/') && !file.startsWith('node_modules/'))
    .filter((file) => folderOf(file) !== undefined);
}

let sourceImports: Array<[file: string, imports: string[]]> | undefined;

/** What `check` finds in the tree's source files (each read once for every check). */
function treeViolations(check: (file: string, imports: string[]) => string[]): string[] {
  sourceImports ??= sourceFiles().map((file) => [
    file,
    relativeImports(file, readFileSync(path.join(repoRoot, file), 'utf8')),
  ]);
  return sourceImports.flatMap(([file, imports]) => check(file, imports));
}

describe('imports run one way, the way the data flows', () => {
  it('every source folder has a layer', () => {
    const folders = new Set(
      execFileSync('git', ['ls-files', '*.ts'], { cwd: repoRoot, encoding: 'utf8' })
        .split('\n')
        .filter((file) => file.includes('/') && !file.startsWith('test/'))
        .map((file) => file.split('/')[0]),
    );
    const unknown = [...folders].filter((folder) => !(folder in LAYERS));
    expect(unknown).toEqual([]);
  });

  it('no source file imports a folder later in the data flow', () => {
    expect(treeViolations(importViolations)).toEqual([]);
  });

  it('the check itself catches a climbing import', () => {
    const ingestFile = 'ingest/example.ts';
    const imports = relativeImports(ingestFile, "import { x } from '../detector/service/service.ts';\n");
    expect(importViolations(ingestFile, imports)).toEqual([
      'ingest/example.ts imports detector/service/service.ts (detector comes after ingest)',
    ]);
    const detectorFile = 'detector/service/example.ts';
    const dynamic = relativeImports(detectorFile, "const m = await import('../../dashboards/web/server.ts');\n");
    expect(importViolations(detectorFile, dynamic)).toHaveLength(1);
    const downward = relativeImports(detectorFile, "export type { Frame } from '../../common/types.ts';\n");
    expect(importViolations(detectorFile, downward)).toEqual([]);
  });
});

describe('command files only parse flags', () => {
  it('no module imports a command file; only other command files and entry points do', () => {
    expect(treeViolations(commandImportViolations)).toEqual([]);
  });

  it('the check itself catches a module importing a command file', () => {
    const file = 'detector/retrain/schedule-run.ts';
    const imports = relativeImports(file, "import { writePromotion } from '../registry/cli.ts';\n");
    expect(commandImportViolations(file, imports)).toEqual([
      'detector/retrain/schedule-run.ts imports the command file detector/registry/cli.ts',
    ]);
    expect(commandImportViolations('detector/cli.ts', imports)).toEqual([]);
  });
});
