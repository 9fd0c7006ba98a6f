/**
 * Turns raw records (from any format) into sensor nodes, collecting every
 * problem with its file, line and field instead of stopping at the first.
 */
import { KNOWN_MODALITIES } from '../../common/types.ts';
import { NODE_STATUSES, type NodeStatus, type SensorNode, type SourceLocation } from '../types.ts';
import type { InputIssue } from '../input-error.ts';

/** A record as read from a file: values may still be strings. */
export interface RawNodeRecord {
  id?: unknown;
  x?: unknown;
  y?: unknown;
  z?: unknown;
  modalities?: unknown;
  status?: unknown;
}

export interface RecordContext {
  file: string;
  /** Modalities a node gets when its record names none. */
  defaultModalities: readonly string[];
  /** Modalities accepted besides the known ones. */
  extraModalities: readonly string[];
}

const MODALITY_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

function parseCoordinate(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string' || value.trim() === '') return null;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : null;
}

function parseModalities(value: unknown): string[] | null {
  if (Array.isArray(value))
    return value.every((v) => typeof v === 'string') ? (value as string[]).map((v) => v.trim()) : null;
  if (typeof value === 'string')
    return value
      .split(/[;|]/)
      .map((v) => v.trim())
      .filter((v) => v !== '');
  return null;
}

/**
 * Validates records in order; returns the nodes that passed together with
 * their source lines, and appends one issue per bad field to `issues`.
 */
export function validateRecords(
  records: ReadonlyArray<{ record: RawNodeRecord; line: number }>,
  context: RecordContext,
  issues: InputIssue[],
): Array<{ node: SensorNode; source: SourceLocation }> {
  const allowed = new Set<string>([...KNOWN_MODALITIES, ...context.extraModalities]);
  const firstLine = new Map<string, number>();
  const out: Array<{ node: SensorNode; source: SourceLocation }> = [];
  for (const { record, line } of records) {
    const issue = (field: string, message: string): void => {
      issues.push({ file: context.file, line, field, message });
    };
    const before = issues.length;
    let id: string | null = null;
    if (typeof record.id === 'number' && Number.isInteger(record.id)) id = String(record.id);
    else if (typeof record.id === 'string' && record.id.trim() !== '') id = record.id.trim();
    if (id === null) issue('id', `missing or empty node id (got ${JSON.stringify(record.id ?? null)})`);
    else if (firstLine.has(id)) issue('id', `duplicate node id "${id}" (first defined on line ${firstLine.get(id)})`);
    else firstLine.set(id, line);

    const coords: Record<'x' | 'y' | 'z', number | undefined> = { x: undefined, y: undefined, z: undefined };
    for (const axis of ['x', 'y', 'z'] as const) {
      const raw = record[axis];
      if (axis === 'z' && (raw === undefined || raw === null || raw === '')) continue;
      const value = parseCoordinate(raw);
      if (value === null) issue(axis, `coordinate is not a finite number (got ${JSON.stringify(raw ?? null)})`);
      else coords[axis] = value;
    }

    let modalities: string[] = [...context.defaultModalities];
    if (record.modalities !== undefined && record.modalities !== null && record.modalities !== '') {
      const parsed = parseModalities(record.modalities);
      if (parsed === null) issue('modalities', 'expected a list of modality names');
      else {
        for (const name of parsed) {
          if (!MODALITY_NAME.test(name)) issue('modalities', `"${name}" is not a valid modality name`);
          else if (!allowed.has(name))
            issue(
              'modalities',
              `unknown modality "${name}" (known: ${[...allowed].join(', ')}; declare others with --extra-modalities, or in JSON with a top-level "modalities" list)`,
            );
        }
        modalities = [...new Set(parsed)];
      }
    }
    if (modalities.length === 0) issue('modalities', 'a node must measure at least one modality');

    let status: NodeStatus = 'active';
    if (record.status !== undefined && record.status !== null && record.status !== '') {
      if (typeof record.status === 'string' && (NODE_STATUSES as readonly string[]).includes(record.status.trim())) {
        status = record.status.trim() as NodeStatus;
      } else {
        issue('status', `unknown status ${JSON.stringify(record.status)} (expected ${NODE_STATUSES.join(', ')})`);
      }
    }

    if (issues.length === before && id !== null && coords.x !== undefined && coords.y !== undefined) {
      const node: SensorNode = { id, x: coords.x, y: coords.y, modalities: [...modalities].sort(), status };
      if (coords.z !== undefined) node.z = coords.z;
      out.push({ node, source: { file: context.file, line } });
    }
  }
  return out;
}
