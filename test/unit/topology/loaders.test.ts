import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KNOWN_MODALITIES } from '../../../common/types.ts';
import { UserError } from '../../../common/errors.ts';
import { loadTopology, parseTopologyText, TopologyInputError, type InputIssue } from '../../../topology/index.ts';
import { ibrlNodeFile } from './fixtures.ts';

function issuesOf(fn: () => unknown): InputIssue[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyInputError);
    return (error as TopologyInputError).issues;
  }
  throw new Error('expected a TopologyInputError');
}

/** The real node.txt with its last line's y set to 253, the data error the IBRL notes describe. */
function ibrlWithOutlier(): string {
  const lines = readFileSync(ibrlNodeFile, 'utf8').trimEnd().split('\n');
  const last = lines[lines.length - 1].trim().split(/\s+/);
  lines[lines.length - 1] = `${last[0]} ${last[1]} 253`;
  return `${lines.join('\n')}\n`;
}

describe('IBRL loader', () => {
  it('loads the 54 motes of the real node.txt with all known modalities', () => {
    const loaded = loadTopology(ibrlNodeFile);
    expect(loaded.nodes).toHaveLength(54);
    expect(loaded.nodes[0]).toEqual({
      id: '1',
      x: 21.5,
      y: 23,
      modalities: [...KNOWN_MODALITIES].sort(),
      status: 'active',
    });
    expect(loaded.sources.get('54')?.line).toBe(54);
  });

  it('excludes an implausible coordinate by default and reports file, line and reason', () => {
    const loaded = parseTopologyText(ibrlWithOutlier(), 'node.txt');
    expect(loaded.nodes.map((n) => n.id)).not.toContain('54');
    expect(loaded.nodes).toHaveLength(53);
    expect(loaded.excluded).toHaveLength(1);
    const [excluded] = loaded.excluded;
    expect(excluded.node.id).toBe('54');
    expect(excluded.source).toEqual({ file: 'node.txt', line: 54 });
    expect(excluded.reason).toMatch(/implausible coordinate y=253/);
  });

  it('keeps the outlier with a warning when asked, and fails on it in error mode', () => {
    const kept = parseTopologyText(ibrlWithOutlier(), 'node.txt', { outliers: 'keep' });
    expect(kept.nodes).toHaveLength(54);
    expect(kept.warnings.map((w) => [w.node.id, w.source?.line])).toEqual([['54', 54]]);
    const issues = issuesOf(() => parseTopologyText(ibrlWithOutlier(), 'node.txt', { outliers: 'error' }));
    expect(issues).toEqual([expect.objectContaining({ file: 'node.txt', line: 54, field: 'y' })]);
  });

  it('uses an explicit bounding box instead of the MAD rule', () => {
    const loaded = parseTopologyText(ibrlWithOutlier(), 'node.txt', {
      plausibility: { kind: 'bbox', minX: 0, minY: 0, maxX: 41, maxY: 20 },
    });
    // Everything above y = 20 is outside this (deliberately small) box.
    expect(loaded.excluded.length).toBeGreaterThan(20);
    expect(loaded.nodes.every((n) => n.y <= 20)).toBe(true);
  });

  it('names file, line and field for every bad line, not only the first', () => {
    const text = '1 1 1\n2 x 3\n\n1 4 4\n3 5\n4 5 Infinity\n';
    const issues = issuesOf(() => parseTopologyText(text, 'bad.txt'));
    expect(issues.map((i) => [i.line, i.field])).toEqual([
      [2, 'x'],
      [4, 'id'],
      [5, 'line'],
      [6, 'y'],
    ]);
    expect(issues[1].message).toMatch(/duplicate node id "1" \(first defined on line 1\)/);
    expect(new TopologyInputError(issues).message).toContain('bad.txt:2: field x');
  });

  it('rejects a missing file and an empty file with a user error', () => {
    expect(() => loadTopology('no/such/node.txt')).toThrow(UserError);
    expect(() => parseTopologyText('# only a comment\n', 'empty.txt')).toThrow(/holds no nodes/);
  });
});

describe('JSON loader', () => {
  const json = `{
  "modalities": ["co2"],
  "nodes": [
    { "id": "a", "x": 1, "y": 2, "modalities": ["temperature", "co2"] },
    {
      "id": "b", "x": 3, "y": 4, "z": 1.5, "status": "silent"
    },
    { "id": "c", "x": 5, "y": 6, "status": "removed" }
  ]
}`;

  it('reads nodes with modalities, z and status; removed nodes are excluded with a reason', () => {
    const loaded = parseTopologyText(json, 'net.json');
    expect(loaded.nodes).toEqual([
      { id: 'a', x: 1, y: 2, modalities: ['co2', 'temperature'], status: 'active' },
      { id: 'b', x: 3, y: 4, z: 1.5, modalities: [...KNOWN_MODALITIES].sort(), status: 'silent' },
    ]);
    expect(loaded.excluded.map((e) => [e.node.id, e.reason, e.source?.line])).toEqual([
      ['c', 'status is "removed"', 8],
    ]);
  });

  it('points at the line of the node object that is wrong', () => {
    const bad = json
      .replace('"co2"] }', '"co2", "smell"] }')
      .replace('"y": 4', '"y": "four"')
      .replace('"modalities": ["co2"],', '');
    const issues = issuesOf(() => parseTopologyText(bad, 'net.json'));
    expect(issues.map((i) => [i.line, i.field])).toEqual([
      [4, 'modalities'],
      [4, 'modalities'],
      [5, 'y'],
    ]);
    expect(issues[0].message).toMatch(/unknown modality "co2"/);
  });

  it('accepts a plain array and reports invalid JSON with a line', () => {
    expect(parseTopologyText('[{"id":1,"x":0,"y":0}]', 'a.json').nodes[0].id).toBe('1');
    const issues = issuesOf(() => parseTopologyText('[\n{"id":1,\n"x":0 "y":0}]', 'a.json'));
    expect(issues[0]).toMatchObject({ line: 3, field: 'json' });
  });

  it('rejects unknown fields instead of ignoring them', () => {
    const issues = issuesOf(() => parseTopologyText('[{"id":1,"x":0,"y":0,"colour":"red"}]', 'a.json'));
    expect(issues).toEqual([expect.objectContaining({ line: 1, field: 'colour' })]);
  });
});

describe('CSV loader', () => {
  it('reads a header and rows, modalities separated by ;', () => {
    const loaded = parseTopologyText('id,x,y,modalities\n1,0,0,temperature;humidity\n2,1,1,\n', 'n.csv');
    expect(loaded.nodes.map((n) => [n.id, n.modalities])).toEqual([
      ['1', ['humidity', 'temperature']],
      ['2', [...KNOWN_MODALITIES].sort()],
    ]);
  });

  it('reports bad rows with their line and field, and unknown columns', () => {
    const issues = issuesOf(() => parseTopologyText('id,x,y\n1,0,0\n2,abc,1\n1,2,2\n3,4\n', 'n.csv'));
    expect(issues.map((i) => [i.line, i.field])).toEqual([
      [3, 'x'],
      [4, 'id'],
      [5, 'line'],
    ]);
    const header = issuesOf(() => parseTopologyText('id,x,height\n1,0,0\n', 'n.csv'));
    expect(header.map((i) => i.field).sort()).toEqual(['height', 'y']);
  });

  it('accepts declared extra modalities and rejects undeclared ones', () => {
    const text = 'id,x,y,modalities\n1,0,0,co2\n';
    expect(() => parseTopologyText(text, 'n.csv')).toThrow(/unknown modality "co2"/);
    expect(parseTopologyText(text, 'n.csv', { extraModalities: ['co2'] }).nodes[0].modalities).toEqual(['co2']);
  });
});
