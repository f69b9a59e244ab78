import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { env, setEnv } from '@/lib/env';
import { isEddyError } from '@/lib/errors';
import { buildIfNeeded } from './build-if-needed';
import { ensureKafka, type KafkaHandle } from './services/kafka';
import { startEmbeddedPostgres, type PostgresHandle } from './services/postgres';
import { repoRoot } from './services/util';

// `npm test`: the whole suite — type check, unit, integration against real PostgreSQL and real
// Kafka, browser tests in Chromium. Starts what is missing and stops what it started:
// PostgreSQL from DATABASE_URL or embedded; Kafka from KAFKA_BROKERS or from Maven jars.
// Extra arguments go to Vitest (e.g. `npm test -- --project unit`).

const TEST_PG_PORT = 54330;
const TEST_KAFKA_PORT = 19092;

function step(what: string): void {
  console.log(`\n[test] ${what}`);
}

async function main(): Promise<number> {
  const e = env();
  const started: { stop(): Promise<void> }[] = [];
  try {
    step('type check (tsc --noEmit)');
    const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { cwd: repoRoot, stdio: 'inherit' });
    if (tsc.status !== 0) return tsc.status ?? 1;

    if (!e.DATABASE_URL) {
      step(`PostgreSQL: starting embedded PostgreSQL on 127.0.0.1:${TEST_PG_PORT}`);
      const pg: PostgresHandle = await startEmbeddedPostgres(e.EDDY_DATA_DIR, TEST_PG_PORT, 'test-pg');
      started.push(pg);
      setEnv({ DATABASE_URL: pg.url });
    } else step('PostgreSQL: using DATABASE_URL');

    if (!e.KAFKA_BROKERS) {
      step(`Kafka: starting Apache Kafka ${e.KAFKA_VERSION} (KRaft) on 127.0.0.1:${TEST_KAFKA_PORT}`);
      const kafka: KafkaHandle = await ensureKafka({ version: e.KAFKA_VERSION, port: TEST_KAFKA_PORT, dataDir: e.EDDY_DATA_DIR, name: 'test' });
      if (kafka.started) started.push(kafka);
      setEnv({ KAFKA_BROKERS: kafka.brokers });
    } else step(`Kafka: using KAFKA_BROKERS=${e.KAFKA_BROKERS.join(',')}`);

    ensureChromium(e.CHROMIUM_PATH);

    step('build (tracker + web app, skipped when up to date)');
    buildIfNeeded();

    step('vitest');
    const vitestArgs = process.argv.slice(2);
    return await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...vitestArgs], {
        cwd: repoRoot,
        stdio: 'inherit',
        env: { ...process.env, NODE_ENV: 'test', NEXT_TELEMETRY_DISABLED: '1' },
      });
      child.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  }
}

function ensureChromium(path: string): void {
  if (existsSync(path)) return;
  step(`Chromium not found at ${path}: installing Debian's chromium package`);
  const root = process.getuid?.() === 0;
  const r = spawnSync(root ? 'apt-get' : 'sudo', root ? ['install', '-y', 'chromium'] : ['apt-get', 'install', '-y', 'chromium'], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(path)) {
    spawnSync(root ? 'apt-get' : 'sudo', root ? ['update'] : ['apt-get', 'update'], { stdio: 'inherit' });
    const again = spawnSync(root ? 'apt-get' : 'sudo', root ? ['install', '-y', 'chromium'] : ['apt-get', 'install', '-y', 'chromium'], { stdio: 'inherit' });
    if (again.status !== 0 || !existsSync(path)) throw new Error(`Could not install Chromium; install it (apt-get install chromium) or set CHROMIUM_PATH`);
  }
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error(isEddyError(err) ? err.message : err);
    process.exit(1);
  });
