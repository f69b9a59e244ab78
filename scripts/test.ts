import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { env, setEnv } from '@/lib/env';
import { isEddyError } from '@/lib/errors';
import { buildIfNeeded } from './build-if-needed';
import { ensureKafka, type KafkaHandle } from './services/kafka';
import { startEmbeddedPostgres, type PostgresHandle } from './services/postgres';
import { dataPath, freePort, pidAlive, repoRoot } from './services/util';

// `npm test`: the whole suite — type check, unit, integration against real PostgreSQL and real
// Kafka, browser tests in Chromium. Starts what is missing and stops what it started:
// PostgreSQL from DATABASE_URL or embedded; Kafka from KAFKA_BROKERS or from Maven jars.
// Extra arguments go to Vitest (e.g. `npm test -- --project unit`).
//
// The services a run starts are its own: ports the OS reports free, data directories named after
// this process, deleted on stop. A server some other process left listening (another run, another
// project) is never reused, so two runs at once cannot see each other's topics or databases.

/** Per-run directories of runs whose process is gone (killed before its cleanup) are swept. */
function sweepDeadRuns(dataDir: string): void {
  for (const parent of [dataPath(dataDir, 'kafka', 'x'), dataPath(dataDir, 'test-runs', 'x')].map((p) => path.dirname(p))) {
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent)) {
      const m = /^test-run-(\d+)$/.exec(entry);
      if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) rmSync(path.join(parent, entry), { recursive: true, force: true });
    }
  }
}

/** Starts a service on free ports; if another process takes a port between the check and the bind, tries new ones. */
async function onFreePorts<T>(what: string, start: (ports: number[]) => Promise<T>, count: number): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const ports: number[] = [];
    while (ports.length < count) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    try {
      return await start(ports);
    } catch (e) {
      last = e;
      console.log(`[test] ${what} did not start on ${ports.join(', ')} (${(e as Error).message.split('\n')[0]}); trying other ports`);
    }
  }
  throw last;
}

function step(what: string): void {
  console.log(`\n[test] ${what}`);
}

async function main(): Promise<number> {
  const e = env();
  try {
    step('type check (tsc --noEmit)');
    const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], { cwd: repoRoot, stdio: 'inherit' });
    if (tsc.status !== 0) return tsc.status ?? 1;

    const runName = `test-run-${process.pid}`;
    if (!e.DATABASE_URL || !e.KAFKA_BROKERS) sweepDeadRuns(e.EDDY_DATA_DIR);

    if (!e.DATABASE_URL) {
      const pg: PostgresHandle = await onFreePorts(
        'PostgreSQL',
        async ([port]) => {
          step(`PostgreSQL: starting embedded PostgreSQL on 127.0.0.1:${port!} (this run's own, deleted on stop)`);
          return startEmbeddedPostgres(e.EDDY_DATA_DIR, port!, path.join('test-runs', runName), { reuseRunning: false, throwaway: true });
        },
        1,
      );
      started.push(pg);
      setEnv({ DATABASE_URL: pg.url });
    } else step('PostgreSQL: using DATABASE_URL');

    if (!e.KAFKA_BROKERS) {
      const kafka: KafkaHandle = await onFreePorts(
        'Kafka',
        async ([port, controllerPort]) => {
          step(`Kafka: starting Apache Kafka ${e.KAFKA_VERSION} (KRaft) on 127.0.0.1:${port!} (this run's own, deleted on stop)`);
          return ensureKafka({ version: e.KAFKA_VERSION, port: port!, controllerPort, dataDir: e.EDDY_DATA_DIR, name: runName, reuseRunning: false, throwaway: true });
        },
        2,
      );
      started.push(kafka);
      setEnv({ KAFKA_BROKERS: kafka.brokers });
    } else step(`Kafka: using KAFKA_BROKERS=${e.KAFKA_BROKERS.join(',')}`);

    ensureChromium(e.CHROMIUM_PATH);

    step('build (tracker + web app, skipped when up to date)');
    buildIfNeeded();

    // EDDY_TEST_NOW=23:58 (or an ISO instant): every Node process of the run sees that wall clock
    // (scripts/shifted-clock.mjs; docs/TESTING.md). The services keep the real time.
    const shifted = process.env.EDDY_TEST_NOW ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(path.join(repoRoot, 'scripts/shifted-clock.mjs')).href}`.trim() } : {};
    step(process.env.EDDY_TEST_NOW ? `vitest, with the clock shifted to EDDY_TEST_NOW=${process.env.EDDY_TEST_NOW}` : 'vitest');
    const vitestArgs = process.argv.slice(2);
    return await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...vitestArgs], {
        cwd: repoRoot,
        stdio: 'inherit',
        env: { ...process.env, NODE_ENV: 'test', NEXT_TELEMETRY_DISABLED: '1', ...shifted },
      });
      child.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await stopAll();
  }
}

const started: { stop(): Promise<void> }[] = [];
async function stopAll(): Promise<void> {
  for (const s of started.splice(0).reverse()) await s.stop().catch(() => undefined);
  rmSync(path.join(repoRoot, env().EDDY_DATA_DIR, 'test-runs', `test-run-${process.pid}`), { recursive: true, force: true });
}
// Ctrl-C or a CI timeout: the broker runs detached, so stop what this run started before going.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().finally(() => process.exit(130)));

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
