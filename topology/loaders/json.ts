/**
 * JSON positions: either an array of node objects or an object
 * `{ "modalities": [extra names], "nodes": [ ... ] }`. Node objects have `id`,
 * `x`, `y` and optionally `z`, `modalities` and `status`. Errors name the line
 * each node object starts on, found by a small scan of the text.
 */
import type { InputIssue } from '../input-error.ts';
import type { RawNodeRecord } from './records.ts';

/** Line (1-based) at which each element of the node array starts. */
export function nodeElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let lastString = '';
  let stringStart = 0;
  let currentKey = '';
  let targetDepth = -1;
  let expectElement = false;
  let topIsArray: boolean | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') line++;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') {
        inString = false;
        lastString = text.slice(stringStart, i);
      }
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') continue;
    if (expectElement && depth === targetDepth && ch !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (ch === '"') {
      inString = true;
      stringStart = i + 1;
    } else if (ch === ':' && depth === 1) {
      currentKey = lastString;
    } else if (ch === '{' || ch === '[') {
      if (topIsArray === null) topIsArray = ch === '[';
      depth++;
      if (ch === '[' && ((depth === 1 && topIsArray) || (depth === 2 && !topIsArray && currentKey === 'nodes'))) {
        targetDepth = depth;
        expectElement = true;
      }
    } else if (ch === '}' || ch === ']') {
      if (depth === targetDepth) targetDepth = -1;
      depth--;
      expectElement = false;
    } else if (ch === ',' && depth === targetDepth) {
      expectElement = true;
    }
  }
  return lines;
}

function lineAt(text: string, position: number): number {
  let line = 1;
  for (let i = 0; i < position && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

export interface ParsedJson {
  records: Array<{ record: RawNodeRecord; line: number }>;
  declaredModalities: string[];
}

export function parseJson(text: string, file: string, issues: InputIssue[]): ParsedJson {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    issues.push({
      file,
      line: position ? lineAt(text, Number(position[1])) : 1,
      field: 'json',
      message: `not valid JSON: ${message}`,
    });
    return { records: [], declaredModalities: [] };
  }
  let nodes: unknown;
  let declaredModalities: string[] = [];
  if (Array.isArray(doc)) nodes = doc;
  else if (doc && typeof doc === 'object') {
    const obj = doc as Record<string, unknown>;
    nodes = obj.nodes;
    if (obj.modalities !== undefined) {
      if (Array.isArray(obj.modalities) && obj.modalities.every((m) => typeof m === 'string'))
        declaredModalities = obj.modalities as string[];
      else
        issues.push({ file, line: 1, field: 'modalities', message: 'top-level "modalities" must be a list of names' });
    }
  }
  if (!Array.isArray(nodes)) {
    issues.push({
      file,
      line: 1,
      field: 'nodes',
      message: 'expected an array of nodes or an object with a "nodes" array',
    });
    return { records: [], declaredModalities };
  }
  const lines = nodeElementLines(text);
  const records = nodes.map((value, i) => {
    const line = lines[i] ?? 1;
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ file, line, field: 'node', message: `expected a node object, got ${JSON.stringify(value)}` });
      return null;
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!['id', 'x', 'y', 'z', 'modalities', 'status'].includes(key)) {
        issues.push({
          file,
          line,
          field: key,
          message: `unknown field "${key}" (expected id, x, y, z, modalities, status)`,
        });
      }
    }
    return { record: obj as RawNodeRecord, line };
  });
  return {
    records: records.filter((r): r is { record: RawNodeRecord; line: number } => r !== null),
    declaredModalities,
  };
}
