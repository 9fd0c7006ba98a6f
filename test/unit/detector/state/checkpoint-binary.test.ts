import { describe, expect, it } from 'vitest';
import { BINARY_CHECKPOINT_MAGIC, packFloatArrays } from '../../../../detector/state/binary.ts';
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  encodeCheckpointBinary,
  type ClusterCheckpoint,
} from '../../../../detector/state/checkpoint.ts';
import { TableCheckpointStore } from '../../../../detector/state/store.ts';
import { ReadingJumps, type StoredJumpsState } from '../../../../detector/alerts/jumps.ts';
import { StuckReadings } from '../../../../detector/alerts/stuck.ts';
import { createLogger } from '../../../../common/log.ts';
import { MemoryTransport } from '../../../../transport/index.ts';
import { sampleCheckpoint } from './sample-checkpoint.ts';

/** Jump statistics of one reading in the JSON form (what checkpoints held before the packed form). */
function jumpsJson(): StoredJumpsState {
  return {
    '1': {
      temperature: {
        recent: [20.1, 20.2, 20.15],
        gaps: [0.3, -0.1],
        step: 0.01,
        seen: 250,
        jumps: { zero: 1.5, low: 200, weights: [0.25, 1 / 3, Math.PI, 0, 7.000000001], unit: 1.25 },
        gapJumps: { zero: 0, low: 211, weights: [1e-3, 4999.999], unit: 1 },
        sinceJump: 4,
      },
    },
  };
}

/** A checkpoint with every kind of field: float32 and float64 arrays, alerts, stuck and jump statistics. */
function full(): ClusterCheckpoint {
  return sampleCheckpoint({
    state: {
      windows: Float32Array.from({ length: 12 }, (_, i) => i / 7 - 1),
      hidden: Float32Array.from([0.1, -0.2, 1e-8, 3.5]),
      context: {
        ticks: 77,
        values: Float64Array.from({ length: 4 * 3 }, (_, i) => Math.PI * i + 1e-13),
        history: Float32Array.from({ length: 4 * 5 }, (_, i) => Math.SQRT2 * i),
      },
    },
    alerts: { '1': { above: 2, aboveSince: 990, clear: 0, firing: null, errors: { temperature: 0.5 } } },
    packedStuck: new StuckReadings({
      '2': { humidity: { value: 41.5, repeats: 3, since: 900, stuck: false, step: 0.1, runs: { '1': 4.5, '3': 0.5 } } },
    }).pack(),
    packedJumps: new ReadingJumps(jumpsJson()).pack(),
    model: 'v3',
  });
}

/** `checkpoint`'s binary form with its header edited by `edit`. */
function withHeader(checkpoint: ClusterCheckpoint, edit: (header: Record<string, unknown>) => void): Buffer {
  const bytes = encodeCheckpointBinary(checkpoint);
  const length = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.subarray(12, 12 + length).toString('utf8')) as Record<string, unknown>;
  edit(header);
  const text = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(12);
  BINARY_CHECKPOINT_MAGIC.copy(prefix);
  prefix.writeUInt32LE(text.length, 8);
  return Buffer.concat([prefix, text, bytes.subarray(12 + length)]);
}

describe('binary checkpoints', () => {
  it('decode to what the JSON form decodes to, exactly, in fewer bytes', () => {
    const binary = encodeCheckpointBinary(full());
    expect(binary.subarray(0, 8).toString('latin1')).toBe('wsnckpt1');
    expect(decodeCheckpoint(binary)).toEqual(decodeCheckpoint(encodeCheckpoint(full())));
    expect(decodeCheckpoint(binary)).toEqual(full());
    expect(binary.length).toBeLessThan(Buffer.byteLength(encodeCheckpoint(full())));
  });

  it('keeps the packed stuck and jump statistics as raw float64 after the header, and checks them', () => {
    const binary = encodeCheckpointBinary(full());
    const length = binary.readUInt32LE(8);
    const header = JSON.parse(binary.subarray(12, 12 + length).toString('utf8')) as {
      packedStuck: Record<string, unknown>;
      packedJumps: Record<string, unknown>;
    };
    expect(header.packedStuck).toEqual({
      modalities: ['humidity'],
      nodes: ['2'],
      readings: { $f64: [expect.any(Number), 1] },
      fields: { $f64: [expect.any(Number), 7] },
      runs: { $f64: [expect.any(Number), 4] },
    });
    expect(new StuckReadings(decodeCheckpoint(binary).packedStuck).toJSON()['2'].humidity.runs).toEqual({
      '1': 4.5,
      '3': 0.5,
    });
    const negativeRun = Float64Array.from(full().packedStuck!.runs);
    negativeRun[3] = -1;
    expect(() =>
      decodeCheckpoint(
        encodeCheckpointBinary({ ...full(), packedStuck: { ...full().packedStuck!, runs: negativeRun } }),
      ),
    ).toThrow(/packedStuck: reading 0: run weight -1/);
    expect(header.packedJumps).toEqual({
      modalities: ['temperature'],
      nodes: ['1'],
      readings: { $f64: [expect.any(Number), 1] },
      fields: { $f64: [expect.any(Number), 14] },
      values: { $f64: [expect.any(Number), 3 + 2 + 5 + 2] },
    });
    expect(decodeCheckpoint(binary).packedJumps).toEqual(full().packedJumps);
    expect(new ReadingJumps(decodeCheckpoint(binary).packedJumps).toJSON()).toEqual(jumpsJson());
    const packed = full().packedJumps!;
    const negative = Float64Array.from(packed.values);
    negative[6] = -2;
    const withValues = (values: Float64Array): Buffer =>
      encodeCheckpointBinary({ ...full(), packedJumps: { ...packed, values } });
    expect(() => decodeCheckpoint(withValues(negative))).toThrow(/packedJumps: reading 0: size weight -2/);
    expect(() => decodeCheckpoint(withValues(packed.values.subarray(1)))).toThrow(
      /values has 11 numbers, the fields account for 12/,
    );
    const badModality = Float64Array.from(packed.fields);
    badModality[0] = 3;
    expect(() =>
      decodeCheckpoint(encodeCheckpointBinary({ ...full(), packedJumps: { ...packed, fields: badModality } })),
    ).toThrow(/modality index 3 is not one of 1/);
  });

  it('reads the binary checkpoints written before the packed form (raw float64 size weights), and checks them', () => {
    const { packedJumps: _, ...rest } = full();
    const raw = (weights: number[]): Float64Array => Float64Array.from(weights);
    const reading = jumpsJson()['1'].temperature;
    const older = (weights: Float64Array): Buffer =>
      packFloatArrays({
        ...rest,
        jumps: {
          '1': {
            temperature: {
              ...reading,
              jumps: { ...reading.jumps, weights },
              gapJumps: { ...reading.gapJumps, weights: raw(reading.gapJumps.weights as number[]) },
            },
          },
        },
      });
    const decoded = decodeCheckpoint(older(raw(reading.jumps.weights as number[])));
    expect(decoded.jumps).toEqual(jumpsJson());
    expect(decoded.packedJumps).toBeUndefined();
    expect(() => decodeCheckpoint(older(Float64Array.from([1, -2])))).toThrow(/jumps\.1\.temperature\.jumps/);
  });

  it('the store writes the binary form and reads both forms back', async () => {
    const logger = createLogger('test', 'silent');
    const transport = new MemoryTransport({ logger });
    const table = transport.table({ topic: 'state', partitions: 1 });
    const store = new TableCheckpointStore(table, logger);
    await store.save([full()]);
    await table.put([{ key: 'c2', value: encodeCheckpoint({ ...full(), cluster: 'c2' }) }]);
    const raw = await table.readToEnd();
    expect(raw.get('c1')!.subarray(0, 8).equals(BINARY_CHECKPOINT_MAGIC)).toBe(true);
    const all = await store.loadAll();
    expect(all.get('c1')).toEqual(full());
    expect(all.get('c2')).toEqual({ ...full(), cluster: 'c2' });
    await store.close();
  });

  it('rejects a truncated or inconsistent binary checkpoint with a CheckpointError saying what is wrong', () => {
    const binary = encodeCheckpointBinary(full());
    expect(() => decodeCheckpoint(binary.subarray(0, 10))).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(binary.subarray(0, 10))).toThrow(/no header/);
    expect(() => decodeCheckpoint(binary.subarray(0, 40))).toThrow(/header of \d+ bytes runs past the end/);
    expect(() => decodeCheckpoint(binary.subarray(0, binary.length - 4))).toThrow(/runs past the end of the data/);
    const wrongType = withHeader(full(), (header) => {
      const state = header.state as Record<string, unknown>;
      state.hidden = { $f64: [0, 2] };
    });
    expect(() => decodeCheckpoint(wrongType)).toThrow(/state\.hidden/);
    const badRef = withHeader(full(), (header) => {
      (header.state as Record<string, unknown>).windows = { $f32: [-4, 12] };
    });
    expect(() => decodeCheckpoint(badRef)).toThrow(/bad float array reference/);
    const shortWindows = packFloatArrays({ ...full(), state: { ...full().state, windows: new Float32Array(5) } });
    expect(() => decodeCheckpoint(shortWindows)).toThrow(/windows has 5 values, expected 12/);
  });
});
