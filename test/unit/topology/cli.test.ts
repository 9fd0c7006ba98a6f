import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TopologyInputError, type ClusterExport } from '../../../topology/index.ts';
import { registerTopologyCommands } from '../../../topology/cli.ts';
import { ibrlNodeFile } from './fixtures.ts';

async function run(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const program = new Command('wsn-watch')
      .exitOverride()
      .configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
    registerTopologyCommands(program);
    program.commands.forEach((c) => c.exitOverride().commands.forEach((s) => s.exitOverride()));
    await program.parseAsync(['node', 'wsn-watch', 'topology', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr };
}

afterEach(() => vi.restoreAllMocks());

describe('wsn-watch topology', () => {
  it('show prints nodes, edges, degrees, clusters with sizes, and excluded nodes', async () => {
    const { stdout } = await run('show', ibrlNodeFile, '--max-cluster-size', '12');
    expect(stdout).toMatch(/^nodes: +54 \(54 active, 0 silent\)$/m);
    expect(stdout).toMatch(/^edges: +\d+ \(k nearest = 4; weight/m);
    expect(stdout).toMatch(/^degree: +min 4, mean [\d.]+, median \d+, max \d+$/m);
    expect(stdout).toMatch(/^clusters: +\d+ \(k-means, max size 12, seed 1, 12 partitions\)/m);
    const sizes = [...stdout.matchAll(/^ {2}c-\S+ +(\d+) nodes/gm)].map((m) => Number(m[1]));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(54);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(12);
    expect(stdout).toMatch(/^excluded: +none$/m);
  });

  it('reports an outlier with file and line, and draws an SVG with one circle per node and a legend', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsn-topology-cli-'));
    const file = join(dir, 'node.txt');
    writeFileSync(
      file,
      readFileSync(ibrlNodeFile, 'utf8')
        .trimEnd()
        .replace(/(\S+ \S+) \S+$/, '$1 253'),
    );
    const svgFile = join(dir, 'img', 'net.svg');
    const { stdout } = await run(
      'show',
      file,
      '--svg',
      svgFile,
      '--max-cluster-size',
      '16',
      '--range',
      '8',
      '--knn',
      '3',
      '--louvain',
    );
    expect(stdout).toMatch(
      new RegExp(
        `^ {2}node 54 at \\(26\\.5, 253\\) ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:54: implausible coordinate y=253`,
        'm',
      ),
    );
    const svg = readFileSync(svgFile, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle cx=[^>]*><title>node /g)).toHaveLength(53);
    expect(svg).toContain('excluded (not drawn)');
    expect(svg).toMatch(/c-1 \(\d+, p\d+\)/);
  });

  it('export writes per-cluster JSON a model can use, and a snapshot that loads back to the same export', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsn-topology-cli-'));
    const out = join(dir, 'clusters.json');
    const snapshot = join(dir, 'snapshot.json');
    await run('export', ibrlNodeFile, '--out', out, '--snapshot', snapshot, '--max-cluster-size', '20', '--seed', '3');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { version: string; clusters: ClusterExport[] };
    expect(doc.version).toMatch(/^[0-9a-f]{64}$/);
    expect(doc.clusters.every((c) => c.adjacency!.length === c.nodes.length && c.nodes.length <= 20)).toBe(true);
    const { stdout } = await run('export', snapshot);
    expect(JSON.parse(stdout)).toEqual(doc);
  });

  it('bad input fails with a TopologyInputError naming file, line and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsn-topology-cli-'));
    const file = join(dir, 'bad.txt');
    writeFileSync(file, '1 0 0\n2 0 zero\n');
    await expect(run('show', file)).rejects.toThrow(TopologyInputError);
    await expect(run('show', file)).rejects.toThrow(`${file}:2: field y: coordinate is not a finite number`);
  });

  it('rejects bad option values naming the flag', async () => {
    await expect(run('show', ibrlNodeFile, '--knn', '0')).rejects.toThrow(/--knn needs an integer >= 1, got "0"/);
    await expect(run('show', ibrlNodeFile, '--bbox', '1,2,3')).rejects.toThrow(/--bbox needs/);
  });
});
