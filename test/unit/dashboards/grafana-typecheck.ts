/**
 * Checks dashboard JSON against Grafana's published TypeScript types
 * (@grafana/schema, the version in package.json) with the TypeScript
 * compiler: each file becomes an object literal assigned to `Dashboard`, so a
 * missing required key, a wrong type or an unknown key is a diagnostic; each
 * panel's `options` and `fieldConfig.defaults.custom` are checked the same way
 * against its plugin's `Options` / `FieldConfig` (for the plugins the schema
 * publishes: stat, timeseries, bargauge, table, xychart, text).
 *
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

const PLUGIN_TYPES: Record<string, { module: string; options: boolean; fieldConfig: boolean }> = {
  stat: { module: 'stat/panelcfg/x/StatPanelCfg_types.gen', options: true, fieldConfig: false },
  timeseries: { module: 'timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen', options: true, fieldConfig: true },
  bargauge: { module: 'bargauge/panelcfg/x/BarGaugePanelCfg_types.gen', options: true, fieldConfig: false },
  table: { module: 'table/panelcfg/x/TablePanelCfg_types.gen', options: true, fieldConfig: true },
  xychart: { module: 'xychart/panelcfg/x/XYChartPanelCfg_types.gen', options: true, fieldConfig: true },
  text: { module: 'text/panelcfg/x/TextPanelCfg_types.gen', options: true, fieldConfig: false },
};

const PRELUDE = [
  "import type { AnnotationQuery, Dashboard, DataQuery } from '@grafana/schema';",
  ...Object.entries(PLUGIN_TYPES).map(
    ([plugin, t]) => `import type * as P_${plugin} from '@grafana/schema/dist/esm/raw/composable/${t.module}';`,
  ),
  "type Checked = Omit<Dashboard, 'annotations'> & { annotations?: { list?: Array<AnnotationQuery<DataQuery & { [key: string]: unknown }>> } };",
  'type Json<T> = T extends string ? `${T}` : T extends number ? (`${T}` extends `${infer N extends number}` ? N : number) : T extends boolean | null | undefined ? T : T extends Array<infer U> ? Array<Json<U>> : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
];

export interface TypeProblem {
  /** The file, and the panel when the problem is in a panel's plugin options. */
  file: string;
  message: string;
}

interface Segment {
  firstLine: number;
  label: string;
}

interface PanelJson {
  type?: string;
  title?: string;
  options?: unknown;
  fieldConfig?: { defaults?: { custom?: unknown } };
}

/** The wrapper source of one dashboard and which line range checks what. */
function wrap(name: string, json: string): { text: string; segments: Segment[] } {
  const lines = [...PRELUDE];
  const segments: Segment[] = [{ firstLine: lines.length, label: name }];
  lines.push(`export const dashboard: Json<Checked> = ${json};`);
  let parsed: { panels?: PanelJson[] } = {};
  try {
    parsed = JSON.parse(json) as { panels?: PanelJson[] };
  } catch {
    // The dashboard statement above reports the syntax error.
  }
  (parsed.panels ?? []).forEach((panel, i) => {
    const plugin = panel.type ? PLUGIN_TYPES[panel.type] : undefined;
    if (!plugin) return;
    const label = `${name} panel "${panel.title ?? i}"`;
    if (plugin.options && panel.options !== undefined) {
      segments.push({ firstLine: lines.length, label: `${label} options` });
      lines.push(
        `export const options_${i}: Json<Partial<P_${panel.type}.Options>> = ${JSON.stringify(panel.options)};`,
      );
    }
    const custom = panel.fieldConfig?.defaults?.custom;
    if (plugin.fieldConfig && custom !== undefined) {
      segments.push({ firstLine: lines.length, label: `${label} fieldConfig.defaults.custom` });
      lines.push(`export const custom_${i}: Json<Partial<P_${panel.type}.FieldConfig>> = ${JSON.stringify(custom)};`);
    }
  });
  return { text: `${lines.join('\n')}\n`, segments };
}

export function typecheckDashboards(repoRoot: string, files: Record<string, string>): TypeProblem[] {
  const configPath = path.join(repoRoot, 'tsconfig.json');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, repoRoot);
  const virtual = new Map<string, { text: string; segments: Segment[] }>();
  Object.entries(files).forEach(([name, json], i) => {
    // Inside the repo so that `@grafana/schema` resolves from its node_modules.
    virtual.set(path.join(repoRoot, 'dashboards', 'grafana', `__schema_check_${i}.ts`), wrap(name, json));
  });
  const host = ts.createCompilerHost(parsed.options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (fileName) => virtual.get(fileName)?.text ?? readFile(fileName);
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists(fileName);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const entry = virtual.get(fileName);
    return entry === undefined
      ? getSourceFile(fileName, languageVersion, onError, shouldCreate)
      : ts.createSourceFile(fileName, entry.text, languageVersion, true);
  };
  const program = ts.createProgram({
    rootNames: [...virtual.keys()],
    options: { ...parsed.options, noEmit: true },
    host,
  });
  const problems: TypeProblem[] = [];
  for (const [fileName, { segments }] of virtual) {
    const source = program.getSourceFile(fileName);
    for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const line =
        diagnostic.file && diagnostic.start !== undefined
          ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line
          : 0;
      const segment = [...segments].reverse().find((s) => s.firstLine <= line) ?? segments[0];
      const where = segment === segments[0] ? ` (line ${line - segment.firstLine + 1})` : '';
      problems.push({
        file: segment.label,
        message: `${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}${where}`,
      });
    }
  }
  return problems;
}
