import { env } from '@/lib/env';
import { buildIfNeeded } from '../../scripts/build-if-needed';
import { DEFAULT_BASE_SEED, jsonLine, runChaos, type ChaosOptions } from './suite';

// npm run test:chaos                  short: 2 seeds × 90 s + 4 negative controls (also in `npm test`)
// npm run test:chaos -- --long        20 seeds × 5 min + 4 negative controls
// options: --seeds N  --duration S  --seed BASE  --no-controls  --controls-only  --faults F1,F6  --exclude F3  --no-build
// Needs DATABASE_URL (a server where databases may be created) and the Kafka jars (scripts/services).
// The last line printed is one JSON object with the totals.

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  if (!env().DATABASE_URL) {
    console.error(
      'DATABASE_URL is not set: point it at a PostgreSQL server where databases may be created (e.g. postgres://postgres@127.0.0.1:5432/postgres)',
    );
    return 2;
  }
  const has = (f: string) => process.argv.includes(f);
  const options: ChaosOptions = {
    mode: has('--long') ? 'long' : arg('--seeds') || arg('--duration') ? 'custom' : 'short',
    seeds: arg('--seeds') ? Number(arg('--seeds')) : undefined,
    durationS: arg('--duration') ? Number(arg('--duration')) : undefined,
    baseSeed: arg('--seed') ? Number(arg('--seed')) : DEFAULT_BASE_SEED,
    controls: !has('--no-controls'),
    positives: !has('--controls-only'),
    faults: arg('--faults')?.split(',') as ChaosOptions['faults'],
    exclude: arg('--exclude')?.split(',') as ChaosOptions['exclude'],
  };
  if (!has('--no-build')) buildIfNeeded();
  const { summary } = await runChaos(options);
  console.log(jsonLine(summary));
  return summary.passed ? 0 : 1;
}

main()
  .then((code) => process.exit(code))
  .catch((e: unknown) => {
    console.error(e);
    console.log(JSON.stringify({ chaos: 'error', error: (e as Error).message }));
    process.exit(1);
  });
