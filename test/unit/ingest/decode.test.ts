import { describe, it, expect } from 'vitest';
import { decodeMessage, type DecodeOptions } from '../../../ingest/decode.ts';
import { NodeDirectory } from '../../../ingest/directory.ts';
import type { RejectionCode } from '../../../ingest/rejection.ts';

const NOW = Date.UTC(2026, 0, 1);
const options: DecodeOptions = {
  defaultNetwork: 'lab',
  maxMessageBytes: 256,
  precision: 'auto',
  maxFutureMs: 24 * 3600_000,
  now: () => NOW,
  directory: new NodeDirectory({
    network: 'lab',
    version: 'v1',
    clusters: [
      {
        id: 'c1',
        nodes: [
          { id: '12', modalities: ['temperature', 'humidity'] },
          { id: '7', modalities: [] },
        ],
      },
    ],
  }),
};
const decode = (text: string | Buffer) => decodeMessage(typeof text === 'string' ? Buffer.from(text) : text, options);
const codeOf = (text: string | Buffer): RejectionCode | 'accepted' => {
  const result = decode(text);
  return result.ok ? 'accepted' : result.rejection.code;
};

/** Each message is rejected with its code and a message matching the pattern. */
function expectRejections(cases: Array<[string, RejectionCode, RegExp]>): void {
  for (const [text, code, message] of cases) {
    const result = decode(text);
    expect(result.ok, text).toBe(false);
    if (result.ok) continue;
    expect(result.rejection.code, text).toBe(code);
    expect(result.rejection.message, text).toMatch(message);
  }
}

describe('JSON readings', () => {
  it('accepts epoch ms and ISO times with a zone, a numeric node id, and the default network', () => {
    expect(
      decode('{"network":"lab","node":"12","ts":1078358426983,"values":{"temperature":21.4,"humidity":35}}'),
    ).toEqual({
      ok: true,
      value: [{ network: 'lab', node: '12', ts: 1078358426983, values: { temperature: 21.4, humidity: 35 } }],
    });
    const iso = decode('{"node":12,"ts":"2004-03-04T00:00:26.983Z","values":{"temperature":21.4}}');
    expect(iso).toEqual({
      ok: true,
      value: [{ network: 'lab', node: '12', ts: Date.UTC(2004, 2, 4, 0, 0, 26, 983), values: { temperature: 21.4 } }],
    });
    expect(codeOf('{"node":"12","ts":"2004-03-04T01:00:26.983+01:00","values":{"temperature":1}}')).toBe('accepted');
  });

  it('rejects each kind of bad message with its own code and a message that names the field', () => {
    const cases: Array<[string, RejectionCode, RegExp]> = [
      ['{"node":"12","ts":1078358426983,"values":{"temperature":21.4}', 'malformed', /not valid JSON/],
      ['{"node":"12","ts":1078358426983,"values":{"temperature":"21.4"}}', 'invalid', /values\.temperature/],
      ['{"node":"12","ts":1078358426983,"values":{}}', 'invalid', /values: needs at least one modality/],
      ['{"ts":1078358426983,"values":{"temperature":1}}', 'invalid', /node/],
      ['[1,2]', 'invalid', /must be an object/],
      [
        '{"node":"12","ts":1078358426983,"values":{"temperature":1e999}}',
        'non_finite',
        /values\.temperature is Infinity/,
      ],
      ['{"node":"12","values":{"temperature":1}}', 'missing_timestamp', /no ts/],
      ['{"node":"12","ts":1078358426,"values":{"temperature":1}}', 'bad_timestamp', /seconds instead of milliseconds/],
      [
        '{"node":"12","ts":"2004-03-04 00:00:26","values":{"temperature":1}}',
        'bad_timestamp',
        /ISO 8601 time with a zone/,
      ],
      ['{"node":"12","ts":"2004-13-44T00:00:00Z","values":{"temperature":1}}', 'bad_timestamp', /not a valid date/],
      [
        `{"node":"12","ts":${NOW + 2 * 24 * 3600_000},"values":{"temperature":1}}`,
        'future',
        /ahead of this machine's clock/,
      ],
      [
        '{"network":"other","node":"12","ts":1078358426983,"values":{"temperature":1}}',
        'unknown_network',
        /"other" is not served here/,
      ],
      [
        '{"node":"99","ts":1078358426983,"values":{"temperature":1}}',
        'unknown_node',
        /node "99" is not in the topology/,
      ],
      ['{"node":"12","ts":1078358426983,"values":{"light":100}}', 'unknown_modality', /does not measure "light"/],
    ];
    expectRejections(cases);
  });

  it('lets a node with an open modality list report anything', () => {
    expect(codeOf('{"node":"7","ts":1078358426983,"values":{"co2":400}}')).toBe('accepted');
  });

  it('rejects messages above maxMessageBytes before parsing them', () => {
    const big = `{"node":"12","ts":1078358426983,"values":{"temperature":1},"pad":"${'x'.repeat(300)}"}`;
    const result = decode(big);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.rejection).toEqual({
        code: 'oversized',
        message: `message is ${big.length} bytes, above ingest.maxMessageBytes = 256`,
      });
  });

  it('rejects empty messages and invalid UTF-8 as malformed', () => {
    expect(codeOf('')).toBe('malformed');
    expect(codeOf('   \n')).toBe('malformed');
    expect(codeOf(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe('malformed');
  });
});

describe('line-protocol readings', () => {
  it('reads Telegraf output: node tag, fields as modalities, timestamp unit by magnitude', () => {
    const ms = 1700000000123;
    for (const ts of ['1700000000123456789', '1700000000123456', '1700000000123']) {
      expect(decode(`wsn,network=lab,node=12 temperature=21.4,humidity=35i ${ts}`)).toEqual({
        ok: true,
        value: [{ network: 'lab', node: '12', ts, values: { temperature: 21.4, humidity: 35 } }].map((r) => ({
          ...r,
          ts: ms,
        })),
      });
    }
    const seconds = decode('wsn,node=12 temperature=21.4 1700000000');
    expect(seconds.ok && seconds.value[0].ts).toBe(1700000000000);
  });

  it('uses the configured precision instead of the magnitude when set', () => {
    const result = decodeMessage(Buffer.from('wsn,node=12 temperature=1 1700000000123'), {
      ...options,
      precision: 'us',
    });
    expect(result.ok).toBe(false); // 1.7e12 µs is 1970: rejected, not silently misdated
    if (!result.ok) expect(result.rejection.code).toBe('bad_timestamp');
  });

  it('accepts several points in one message and rejects the whole message for one bad line, naming it', () => {
    const two = decode('wsn,node=12 temperature=1 1700000000000\nwsn,node=7 co2=3 1700000000000\n');
    expect(two.ok && two.value.map((r) => r.node)).toEqual(['12', '7']);
    const bad = decode('wsn,node=12 temperature=1 1700000000000\nwsn,node=12 temperature=abc 1700000000000');
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.rejection).toEqual({
        code: 'malformed',
        message: 'line 2: field "temperature" has value "abc", which is not a number',
      });
  });

  it('rejects each kind of bad line with its own code', () => {
    const cases: Array<[string, RejectionCode, RegExp]> = [
      ['wsn,node=12', 'malformed', /found 1 space-separated section/],
      ['wsn,node=12 temperature=1 1700000000000 extra', 'malformed', /found 4/],
      ['wsn,node=12 temperature= 1700000000000', 'malformed', /not key=value/],
      ['wsn,node=12 temperature="warm" 1700000000000', 'invalid', /is a string/],
      ['wsn,node=12 ok=true 1700000000000', 'invalid', /is a boolean/],
      ['wsn,node=12 temperature=NaN 1700000000000', 'non_finite', /NaN/],
      ['wsn,node=12 temperature=1e999 1700000000000', 'non_finite', /overflows/],
      ['wsn,node=12 temperature=1', 'missing_timestamp', /no timestamp/],
      ['wsn,node=12 temperature=1 17e11', 'bad_timestamp', /not an integer/],
      ['wsn temperature=1 1700000000000', 'invalid', /no "node" tag/],
      ['wsn,node=404 temperature=1 1700000000000', 'unknown_node', /"404"/],
      ['wsn,node=12 light=3 1700000000000', 'unknown_modality', /"light"/],
      ['wsn,network=far,node=12 temperature=1 1700000000000', 'unknown_network', /"far"/],
    ];
    expectRejections(cases);
  });

  it('handles escaped spaces and commas in tag values', () => {
    const result = decode('wsn\\ lab,site=Room\\ 4\\,east,node=12 temperature=2 1700000000000');
    expect(result.ok && result.value[0]).toEqual({
      network: 'lab',
      node: '12',
      ts: 1700000000000,
      values: { temperature: 2 },
    });
  });
});

describe('edges of validation: implausible values, prototype keys, readings from the future', () => {
  const TICK = 31_000;
  const live: DecodeOptions = { ...options, maxFutureMs: 3 * TICK, maxMessageBytes: 1024 };
  const codeAt = (text: string, opts: DecodeOptions = live) => {
    const result = decodeMessage(Buffer.from(text), opts);
    return result.ok ? { code: 'accepted' as const, message: '' } : result.rejection;
  };

  it('rejects a finite but impossible value as implausible, naming node, modality, value and range', () => {
    const result = codeAt(`{"node":"12","ts":${NOW},"values":{"temperature":1e308}}`);
    expect(result.code).toBe('implausible');
    expect(result.message).toBe(
      'node "12": values.temperature = 1e+308 is outside the plausible range -90 to 150 (validation.plausibility.temperature)',
    );
    expect(codeAt(`{"node":"12","ts":${NOW},"values":{"temperature":21,"humidity":-8983.13}}`).code).toBe(
      'implausible',
    );
    expect(codeAt(`wsn,node=12 temperature=293.15 ${NOW}`).code).toBe('implausible'); // kelvin sent as °C
  });

  it('accepts values at the edges of the range and modalities without a range', () => {
    expect(codeAt(`{"node":"12","ts":${NOW},"values":{"temperature":150,"humidity":-10}}`).code).toBe('accepted');
    expect(codeAt(`{"node":"7","ts":${NOW},"values":{"co2":1e9}}`).code).toBe('accepted');
  });

  it('uses configured ranges over the defaults', () => {
    const narrow: DecodeOptions = {
      ...live,
      plausibility: { temperature: { min: 0, max: 40 }, co2: { min: 0, max: 5000 } },
    };
    expect(codeAt(`{"node":"12","ts":${NOW},"values":{"temperature":41}}`, narrow).code).toBe('implausible');
    expect(codeAt(`{"node":"7","ts":${NOW},"values":{"co2":6000}}`, narrow).message).toMatch(
      /values\.co2 = 6000 is outside the plausible range 0 to 5000/,
    );
  });

  it('rejects __proto__, constructor and prototype keys anywhere in a JSON reading, naming the key', () => {
    const cases: Array<[string, string]> = [
      [`{"node":"12","ts":${NOW},"values":{"__proto__":{"polluted":1},"temperature":21}}`, 'values.__proto__'],
      [`{"node":"12","ts":${NOW},"values":{"constructor":1,"temperature":21}}`, 'values.constructor'],
      [`{"__proto__":{"node":"99"},"node":"12","ts":${NOW},"values":{"temperature":21}}`, '__proto__'],
      [`{"node":"12","ts":${NOW},"values":{"temperature":21},"meta":{"prototype":{}}}`, 'meta.prototype'],
    ];
    for (const [text, key] of cases) {
      const result = codeAt(text);
      expect(result.code, text).toBe('forbidden_key');
      expect(result.message, text).toContain(`key ${key} is not allowed`);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects prototype keys as line-protocol tags and fields', () => {
    expect(codeAt(`wsn,node=12,__proto__=x temperature=1 ${NOW}`).code).toBe('forbidden_key');
    expect(codeAt(`wsn,node=12 __proto__=1,temperature=1 ${NOW}`)).toEqual({
      code: 'forbidden_key',
      message: 'line 1: field key __proto__ is not allowed',
    });
    expect(codeAt(`wsn,node=12 constructor=1 ${NOW}`).code).toBe('forbidden_key');
  });

  it('rejects readings more than the allowed skew ahead of the clock, and accepts them within it', () => {
    expect(codeAt(`{"node":"12","ts":${NOW + 3 * TICK},"values":{"temperature":21}}`).code).toBe('accepted');
    const ahead = codeAt(`{"node":"12","ts":${NOW + 23 * 3600_000},"values":{"temperature":21}}`);
    expect(ahead.code).toBe('future');
    expect(ahead.message).toMatch(
      /82800 s ahead of this machine's clock, more than the allowed 93 s \(validation\.maxFutureTicks/,
    );
    expect(codeAt(`wsn,node=12 temperature=21 ${(NOW + 4 * TICK) * 1_000_000}`).code).toBe('future');
  });
});
