import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../common/errors.ts';
import { kafkaPomFile, kafkaVersion } from '../../../ops/kafka/config.ts';
import { ensureKafkaLibs, kafkaCacheDir } from '../../../ops/kafka/runtime.ts';

// The jar cache, without the network: a warm cache must not run Maven, and a
// cold one without Maven must say what is missing.
const saved = { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME, PATH: process.env.PATH };
const cache = mkdtempSync(path.join(tmpdir(), 'wsn-ops-cache-'));
const pomHash = createHash('sha256').update(readFileSync(kafkaPomFile)).digest('hex').slice(0, 12);

afterEach(() => {
  // Assigning undefined to process.env stores the string "undefined": delete instead.
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  rmSync(cache, { recursive: true, force: true });
});

describe('ensureKafkaLibs', () => {
  it('uses the jars cached for this pom without running Maven', async () => {
    process.env.XDG_CACHE_HOME = cache;
    process.env.PATH = ''; // no mvn: running it would fail
    const expected = path.join(cache, 'wsn-watch', `kafka-${kafkaVersion()}`, `libs-${pomHash}`);
    mkdirSync(expected, { recursive: true });
    const progress: string[] = [];
    expect(await ensureKafkaLibs(kafkaVersion(), (line) => progress.push(line))).toBe(expected);
    expect(progress).toEqual([]);
  });

  it('keeps the cache outside the repository, under XDG_CACHE_HOME', () => {
    expect(kafkaCacheDir('4.4.0', { XDG_CACHE_HOME: '/c' })).toBe('/c/wsn-watch/kafka-4.4.0');
  });

  it('asks for Maven when the jars are not cached and mvn is missing', async () => {
    process.env.XDG_CACHE_HOME = cache;
    process.env.PATH = '';
    const error = await ensureKafkaLibs(kafkaVersion(), () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain('mvn not found on PATH');
  });
});
