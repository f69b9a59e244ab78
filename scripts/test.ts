import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { env, setEnv } from '@/lib/env';
import { isEddyError } from '@/lib/errors';
import { buildIfNeeded } from './build-if-needed';
import { compatFilesFor } from './kafka-compat';
import { enginesNode, testNodeBin } from './test-node';
import { ensureKafka, type KafkaHandle } from './services/kafka';
import { startEmbeddedPostgres, type PostgresHandle } from './services/postgres';
import { dataPath, freePort, pidAlive, repoRoot } from './services/util';

// `npm test`: the whole suite — type check, unit, integration against real PostgreSQL and real
// Kafka, browser tests in Chromium. Starts what is missing and stops what it started:
// PostgreSQL from DATABASE_URL or embedded; Kafka from KAFKA_BROKERS or from Maven jars.
// Extra arguments go to Vitest (e.g. `npm test -- --project unit`).
//
// Two Kafka releases: the suite runs on KAFKA_VERSION (the newest supported, 4.x); then the
// Kafka-facing files it selected (scripts/kafka-compat.ts) run once more on each of
// KAFKA_COMPAT_VERSIONS (the oldest supported, 3.9.x), each on a broker of its own.
//
// The services a run starts are its own: ports the OS reports free, data directories named after
// this process, deleted on stop. A server some other process left listening (another run, another
// project) is never reused, so two runs at once cannot see each other's topics or databases.

/** Per-run directories of runs whose process is gone (killed before its cleanup) are swept. */
function sweepDeadRuns(dataDir: string): void {
  for (const parent of [dataPath(dataDir, 'kafka', 'x'), dataPath(dataDir, 'test-runs', 'x')].map((p) =>
    path.dirname(p),
  )) {
    if (!existsSync(parent)) continue;
    for (const entry of readdirSync(parent)) {
      const m = /^test-run-(\d+)(?:-kafka-[\d.]+)?$/.exec(entry);
      if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1])))
        rmSync(path.join(parent, entry), { recursive: true, force: true });
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
      console.log(
        `[test] ${what} did not start on ${ports.join(', ')} (${(e as Error).message.split('\n')[0]}); trying other ports`,
      );
    }
  }
  throw last;
}

function step(what: string): void {
  console.log(`\n[test] ${what}`);
}

/** Runs this script again on a claimed Node.js when the running one is not (scripts/test-node.ts). */
async function onClaimedNode(): Promise<number | null> {
  const bin = testNodeBin(env().EDDY_DATA_DIR);
  if (bin === null) return null;
  step(
    `Node.js ${process.version} is outside engines.node (${enginesNode()}): running the suite on ${path.join(bin, 'node')}`,
  );
  // PATH first: npm, npx and every child spawned by name (the build, the dev server) use it too.
  const child = spawn(path.join(bin, 'node'), ['--import', 'tsx', 'scripts/test.ts', ...process.argv.slice(2)], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
  });
  // A CI timeout signals this process: the child stops the services it started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

async function main(): Promise<number> {
  const e = env();
  const delegated = await onClaimedNode();
  if (delegated !== null) return delegated;
  step(`Node.js ${process.version}`);
  try {
    step('type check (tsc --noEmit)');
    const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', '.'], {
      cwd: repoRoot,
      stdio: 'inherit',
    });
    if (tsc.status !== 0) return tsc.status ?? 1;
    // The whole suite (no file arguments, as CI runs it) also lints: eslint.config.mjs.
    if (process.argv.length <= 2) {
      step('lint (eslint: no any, no duplicate imports, no floating promises)');
      const lint = spawnSync(process.execPath, ['node_modules/eslint/bin/eslint.js', '.'], {
        cwd: repoRoot,
        stdio: 'inherit',
      });
      if (lint.status !== 0) return lint.status ?? 1;
      step('format (prettier --check: code at 120 columns, .prettierrc.json; `npm run format` fixes)');
      const format = spawnSync(
        process.execPath,
        ['node_modules/prettier/bin/prettier.cjs', '--check', '--log-level', 'warn', '**/*.{ts,tsx,mts,mjs}'],
        { cwd: repoRoot, stdio: 'inherit' },
      );
      if (format.status !== 0) return format.status ?? 1;
    }

    const runName = `test-run-${process.pid}`;
    if (!e.DATABASE_URL || !e.KAFKA_BROKERS) sweepDeadRuns(e.EDDY_DATA_DIR);

    if (!e.DATABASE_URL) {
      const pg: PostgresHandle = await onFreePorts(
        'PostgreSQL',
        async ([port]) => {
          step(`PostgreSQL: starting embedded PostgreSQL on 127.0.0.1:${port!} (this run's own, deleted on stop)`);
          return startEmbeddedPostgres(e.EDDY_DATA_DIR, port!, path.join('test-runs', runName), {
            reuseRunning: false,
            throwaway: true,
          });
        },
        1,
      );
      started.push(pg);
      setEnv({ DATABASE_URL: pg.url });
    } else step('PostgreSQL: using DATABASE_URL');

    const ownKafka = !e.KAFKA_BROKERS;
    if (ownKafka) {
      const kafka = await startKafka(e.KAFKA_VERSION, runName);
      started.push(kafka);
      setEnv({ KAFKA_BROKERS: kafka.brokers });
    } else step(`Kafka: using KAFKA_BROKERS=${e.KAFKA_BROKERS!.join(',')}`);

    ensureChromium(e.CHROMIUM_PATH);

    step('build (tracker + web app, skipped when up to date)');
    buildIfNeeded();

    // EDDY_TEST_NOW=23:58 (or an ISO instant): every Node process of the run sees that wall clock
    // (scripts/shifted-clock.mjs; docs/TESTING.md). The services keep the real time.
    const shifted = process.env.EDDY_TEST_NOW
      ? {
          NODE_OPTIONS:
            `${process.env.NODE_OPTIONS ?? ''} --import ${pathToFileURL(path.join(repoRoot, 'scripts/shifted-clock.mjs')).href}`.trim(),
        }
      : {};
    step(
      process.env.EDDY_TEST_NOW
        ? `vitest, with the clock shifted to EDDY_TEST_NOW=${process.env.EDDY_TEST_NOW}`
        : 'vitest',
    );
    const vitestArgs = process.argv.slice(2);
    const vitest = (args: string[], extraEnv: Record<string, string> = {}) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...args], {
          cwd: repoRoot,
          stdio: 'inherit',
          env: { ...process.env, NODE_ENV: 'test', NEXT_TELEMETRY_DISABLED: '1', ...shifted, ...extraEnv },
        });
        child.on('exit', (code) => resolve(code ?? 1));
      });
    let status = await vitest(vitestArgs);

    const compatFiles = compatFilesFor(vitestArgs);
    if (compatFiles.length > 0 && e.KAFKA_COMPAT_VERSIONS.length > 0) {
      if (!ownKafka)
        step(`Kafka compatibility pass skipped: KAFKA_BROKERS is set, so the run has no broker versions of its own`);
      else {
        for (const version of e.KAFKA_COMPAT_VERSIONS) {
          const name = `${runName}-kafka-${version}`;
          const kafka = await startKafka(version, name);
          started.push(kafka);
          step(`vitest on Kafka ${version} (oldest supported): ${compatFiles.join(' ')}`);
          // KAFKA_VERSION too: the producer-fault file starts a broker of its own, of that version.
          const code = await vitest(['--project', 'integration', ...compatFiles], {
            KAFKA_BROKERS: kafka.brokers,
            KAFKA_VERSION: version,
          });
          if (status === 0) status = code;
          await stopStarted(kafka);
        }
      }
    }
    return status;
  } finally {
    await stopAll();
  }
}

/** Apache Kafka `version` for this run, on free ports, in a directory deleted on stop. */
async function startKafka(version: string, name: string): Promise<KafkaHandle> {
  return onFreePorts(
    'Kafka',
    async ([port, controllerPort]) => {
      step(`Kafka: starting Apache Kafka ${version} (KRaft) on 127.0.0.1:${port!} (this run's own, deleted on stop)`);
      return ensureKafka({
        version,
        port: port!,
        controllerPort,
        dataDir: env().EDDY_DATA_DIR,
        name,
        reuseRunning: false,
        throwaway: true,
      });
    },
    2,
  );
}

const started: { stop(): Promise<void> }[] = [];
async function stopStarted(service: { stop(): Promise<void> }): Promise<void> {
  const i = started.indexOf(service);
  if (i >= 0) started.splice(i, 1);
  await service.stop().catch(() => undefined);
}
async function stopAll(): Promise<void> {
  for (const s of started.splice(0).reverse()) await s.stop().catch(() => undefined);
  rmSync(path.join(repoRoot, env().EDDY_DATA_DIR, 'test-runs', `test-run-${process.pid}`), {
    recursive: true,
    force: true,
  });
}
// Ctrl-C or a CI timeout: the broker runs detached, so stop what this run started before going.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void stopAll().finally(() => process.exit(130)));

function ensureChromium(path: string): void {
  if (existsSync(path)) return;
  step(`Chromium not found at ${path}: installing Debian's chromium package`);
  const root = process.getuid?.() === 0;
  const r = spawnSync(
    root ? 'apt-get' : 'sudo',
    root ? ['install', '-y', 'chromium'] : ['apt-get', 'install', '-y', 'chromium'],
    { stdio: 'inherit' },
  );
  if (r.status !== 0 || !existsSync(path)) {
    spawnSync(root ? 'apt-get' : 'sudo', root ? ['update'] : ['apt-get', 'update'], { stdio: 'inherit' });
    const again = spawnSync(
      root ? 'apt-get' : 'sudo',
      root ? ['install', '-y', 'chromium'] : ['apt-get', 'install', '-y', 'chromium'],
      { stdio: 'inherit' },
    );
    if (again.status !== 0 || !existsSync(path))
      throw new Error(`Could not install Chromium; install it (apt-get install chromium) or set CHROMIUM_PATH`);
  }
}

main()
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    console.error(isEddyError(err) ? err.message : err);
    process.exit(1);
  });
