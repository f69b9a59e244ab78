import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnv } from '@/lib/env';
import { compatFilesFor, KAFKA_COMPAT_FILES } from '@/scripts/kafka-compat';
import { repoRoot } from './package-facts';

// `npm test` runs the suite on the newest Kafka and the Kafka-facing files again on the oldest
// supported one (scripts/test.ts). These pin the versions and which files the second pass runs.
describe('Kafka versions in npm test', () => {
  it('runs the suite on Kafka 4.x and the Kafka-facing files again on 3.9.x', () => {
    const e = parseEnv({});
    expect(Number(e.KAFKA_VERSION.split('.')[0])).toBeGreaterThanOrEqual(4);
    expect(e.KAFKA_COMPAT_VERSIONS.some((v) => v.startsWith('3.9.'))).toBe(true);
    expect(parseEnv({ KAFKA_COMPAT_VERSIONS: 'none' }).KAFKA_COMPAT_VERSIONS).toEqual([]);
    expect(parseEnv({ KAFKA_COMPAT_VERSIONS: '3.9.1,4.0.2' }).KAFKA_COMPAT_VERSIONS).toEqual(['3.9.1', '4.0.2']);
  });

  it('names files that exist', () => {
    for (const file of KAFKA_COMPAT_FILES) expect(existsSync(path.join(repoRoot, file)), file).toBe(true);
  });

  it('runs all of them on a whole run, and on a run of the integration project', () => {
    expect(compatFilesFor([])).toEqual([...KAFKA_COMPAT_FILES]);
    expect(compatFilesFor(['--project', 'integration'])).toEqual([...KAFKA_COMPAT_FILES]);
    expect(compatFilesFor(['--project=integration', '--reporter', 'dot'])).toEqual([...KAFKA_COMPAT_FILES]);
  });

  it('runs those a file filter selects, and none for other files, other projects or a test-name filter', () => {
    expect(compatFilesFor(['tests/integration/bus.contract.test.ts', 'tests/integration/jobs.test.ts'])).toEqual([
      'tests/integration/bus.contract.test.ts',
    ]);
    expect(compatFilesFor(['./tests/integration/kafka-slow-batch.test.ts'])).toEqual([
      'tests/integration/kafka-slow-batch.test.ts',
    ]);
    expect(compatFilesFor(['kafka-'])).toEqual([
      'tests/integration/kafka-producer-faults.test.ts',
      'tests/integration/kafka-slow-batch.test.ts',
    ]);
    expect(compatFilesFor(['tests/integration/jobs.test.ts'])).toEqual([]);
    expect(compatFilesFor(['--project', 'unit'])).toEqual([]);
    expect(compatFilesFor(['--project', 'unit', 'bus.contract'])).toEqual([]);
    expect(compatFilesFor(['-t', 'seek', 'bus.contract'])).toEqual([]);
  });
});
