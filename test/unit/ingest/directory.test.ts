import { describe, expect, it } from 'vitest';
import { NodeDirectory } from '../../../ingest/directory.ts';

const directory = new NodeDirectory({
  network: 'lab',
  version: 'v1',
  clusters: [
    {
      id: 'c2',
      nodes: [
        { id: '12', modalities: ['voltage', 'humidity', 'temperature'] },
        { id: '7', modalities: [] },
      ],
    },
    { id: 'c1', nodes: [{ id: '3', modalities: ['light'] }] },
  ],
});

describe('NodeDirectory', () => {
  it('lists clusters and their nodes in id order (compareIds)', () => {
    expect(directory.clusters).toEqual([
      { id: 'c1', nodes: ['3'] },
      { id: 'c2', nodes: ['7', '12'] }, // numeric ids in numeric order
    ]);
  });

  it("gives a node's modalities sorted, one shared array that cannot be changed", () => {
    const sorted = directory.sortedModalitiesOf('12');
    expect(sorted).toEqual(['humidity', 'temperature', 'voltage']);
    expect(directory.sortedModalitiesOf('12')).toBe(sorted);
    expect(Object.isFrozen(sorted)).toBe(true);
    expect(directory.sortedModalitiesOf('7')).toBeNull(); // an open list
    expect(directory.sortedModalitiesOf('99')).toBeNull();
    // The listing order stays available (as given), a copy the caller may change.
    expect(directory.modalitiesOf('12')).toEqual(['voltage', 'humidity', 'temperature']);
  });

  it("names what a reading's node or modalities lack, in one lookup", () => {
    expect(directory.unknownIn('12', { temperature: 1, humidity: 2 })).toBeNull();
    expect(directory.unknownIn('12', { temperature: 1, light: 2 })).toEqual({ modality: 'light' });
    expect(directory.unknownIn('7', { anything: 1 })).toBeNull();
    expect(directory.unknownIn('99', { temperature: 1 })).toEqual({ node: true });
  });

  it('refuses a node in two clusters', () => {
    expect(
      () =>
        new NodeDirectory({
          network: 'lab',
          version: 'v1',
          clusters: [
            { id: 'a', nodes: [{ id: '1', modalities: [] }] },
            { id: 'b', nodes: [{ id: '1', modalities: [] }] },
          ],
        }),
    ).toThrow(/node 1 is in two clusters \(a and b\)/);
  });
});
