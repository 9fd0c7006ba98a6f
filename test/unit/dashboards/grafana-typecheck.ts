/**
 * Checks dashboard JSON against Grafana's published TypeScript types
 * (@grafana/schema, the version in package.json) with the TypeScript
 * compiler: each file becomes an object literal assigned to `Dashboard`, so a
 * missing required key, a wrong type or an unknown key is a diagnostic.
 * The schema declares some fields as TypeScript enums, which a JSON literal
 * can never be; `Json<T>` swaps each enum for the union of its values (what
 * Grafana actually stores) and leaves everything else as published.
 * Annotation targets are datasource-specific: the schema types them with a
 * generic parameter (`AnnotationQuery<TQuery extends DataQuery>`) and
 * publishes no InfluxDB query type, so they are checked as DataQuery plus
 * the datasource's own keys.
 */
import ts from 'typescript';
import path from 'node:path';

/** Two lines, so that line N + 2 of the wrapper is line N of the JSON. */
const PRELUDE = [
  "import type { AnnotationQuery, Dashboard, DataQuery } from '@grafana/schema'; type Checked = Omit<Dashboard, 'annotations'> & { annotations?: { list?: Array<AnnotationQuery<DataQuery & { [key: string]: unknown }>> } };",
  'type Json<T> = T extends string ? `${T}` : T extends number ? (`${T}` extends `${infer N extends number}` ? N : number) : T extends boolean | null | undefined ? T : T extends Array<infer U> ? Array<Json<U>> : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
  '',
].join('\n');

export interface TypeProblem {
  file: string;
  message: string;
}

export function typecheckDashboards(repoRoot: string, files: Record<string, string>): TypeProblem[] {
  const configPath = path.join(repoRoot, 'tsconfig.json');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, repoRoot);
  const virtual = new Map<string, string>();
  const origin = new Map<string, string>();
  Object.entries(files).forEach(([name, json], i) => {
    // Inside the repo so that `@grafana/schema` resolves from its node_modules.
    const fileName = path.join(repoRoot, 'dashboards', 'grafana', `__schema_check_${i}.ts`);
    virtual.set(fileName, `${PRELUDE}export const dashboard: Json<Checked> = ${json};\n`);
    origin.set(fileName, name);
  });
  const host = ts.createCompilerHost(parsed.options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (fileName) => virtual.get(fileName) ?? readFile(fileName);
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists(fileName);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = virtual.get(fileName);
    return text === undefined ? getSourceFile(fileName, languageVersion, onError, shouldCreate) : ts.createSourceFile(fileName, text, languageVersion, true);
  };
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options: { ...parsed.options, noEmit: true }, host });
  const problems: TypeProblem[] = [];
  for (const fileName of virtual.keys()) {
    const source = program.getSourceFile(fileName);
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    for (const diagnostic of diagnostics) {
      const where = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : undefined;
      const line = where ? ` (line ${where.line - 1})` : '';
      problems.push({ file: origin.get(fileName) ?? fileName, message: `${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}${line}` });
    }
  }
  return problems;
}
