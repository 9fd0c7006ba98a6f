import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jsonRecordCodec } from '../../../common/json-record.ts';

class PointFormatError extends Error {}
const codec = jsonRecordCodec(z.object({ x: z.number(), label: z.string().min(1) }), PointFormatError);

describe('jsonRecordCodec', () => {
  it('round-trips a record as plain JSON', () => {
    const record = { x: 1.5, label: 'a' };
    expect(codec.encode(record)).toBe('{"x":1.5,"label":"a"}');
    expect(codec.decode(Buffer.from(codec.encode(record)))).toEqual(record);
  });

  it('refuses text that is not JSON with its own error class', () => {
    expect(() => codec.decode('{x')).toThrow(PointFormatError);
    expect(() => codec.decode('{x')).toThrow(/^not JSON: /);
  });

  it('names every field that breaks the schema', () => {
    let caught: unknown;
    try {
      codec.decode('{"x":"one","label":""}');
    } catch (error) {
      caught = error;
    }
    expect(codec.isFormatError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/^x: .*; label: /);
    expect(codec.isFormatError(new Error('broker down'))).toBe(false);
  });

  it('says (root) when the value is not an object at all', () => {
    expect(() => codec.decode('42')).toThrow(/^\(root\): /);
  });
});
