// Which test files `npm test` runs once more against each older Kafka (KAFKA_COMPAT_VERSIONS).
// The whole suite runs on KAFKA_VERSION (the newest release we support); the files below are the
// ones whose behaviour depends on the broker rather than on Eddy — the bus contract (produce,
// group consumption, commits, seeks, rebalances), the producer after a failed send the broker
// appended, and the consumer heartbeating through a slow batch — so running just them on the
// oldest supported broker checks compatibility for about a minute instead of a second full run.
// Pure, so tests/repo/kafka-compat.test.ts can pin the selection rules.

export const KAFKA_COMPAT_FILES = [
  'tests/integration/bus.contract.test.ts',
  'tests/integration/kafka-producer-faults.test.ts',
  'tests/integration/kafka-slow-batch.test.ts',
] as const;

/** Vitest options that take a value as the next argument (so that value is not a file filter). */
const VALUE_OPTIONS = new Set([
  '--project',
  '-t',
  '--testNamePattern',
  '--reporter',
  '--shard',
  '--config',
  '-c',
  '--root',
  '-r',
  '--dir',
  '--outputFile',
  '--bail',
  '--retry',
  '--maxWorkers',
  '--minWorkers',
  '--exclude',
]);

/**
 * The compatibility files a run with these Vitest arguments selected: all of them when it runs the
 * integration project with no file filter, those matching a filter (Vitest's rule: the path contains
 * it) otherwise, none when it is limited to other projects or to a test name.
 */
export function compatFilesFor(vitestArgs: readonly string[]): string[] {
  const filters: string[] = [];
  const projects: string[] = [];
  let namePattern = false;
  for (let i = 0; i < vitestArgs.length; i++) {
    const arg = vitestArgs[i]!;
    const [flag, inline] = arg.startsWith('-')
      ? (arg.split(/=(.*)/s) as [string, string | undefined])
      : [arg, undefined];
    if (!arg.startsWith('-')) filters.push(arg);
    else if (VALUE_OPTIONS.has(flag)) {
      const value = inline ?? vitestArgs[++i];
      if (flag === '--project' && value !== undefined) projects.push(value);
      if (flag === '-t' || flag === '--testNamePattern') namePattern = true;
    }
  }
  if (namePattern) return [];
  if (projects.length > 0 && !projects.includes('integration')) return [];
  if (filters.length === 0) return [...KAFKA_COMPAT_FILES];
  return KAFKA_COMPAT_FILES.filter((file) => filters.some((f) => file.includes(f.replace(/^\.\//, ''))));
}
