import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { dataPath, freePort, portOpen, repoRoot, waitFor } from './util';

// Apache Kafka (KRaft, one node acting as broker and controller) from Maven Central jars: no
// Docker and no tarball needed. The jars are resolved once into <dataDir>/kafka/<version>/libs
// and reused offline afterwards. Idempotent unless `reuseRunning: false`: if something already
// listens on the port, we use it.

// 22 base64url characters = a 16-byte cluster id, fixed so restarts reuse the formatted log dir.
const CLUSTER_ID = 'EddyLocalKafkaCluster1';

export interface KafkaHandle {
  brokers: string;
  /** True when this call started the broker (and so should stop it). */
  started: boolean;
  pid?: number;
  stop(): Promise<void>;
}

export interface KafkaOptions {
  version: string;
  port: number;
  dataDir: string;
  /** Separate log dirs let a test run its own throwaway broker. */
  name?: string;
  /**
   * Defaults to the one this broker's directory used last time if that is free (a restart on the
   * same data keeps its quorum address), else a port the OS reports free — never blindly port + 1,
   * which another process may hold.
   */
  controllerPort?: number;
  /**
   * Use a broker already listening on the port (the default, for `npm start` and restarts on the
   * same data). A test run says false: whatever listens there is not ours, so starting fails.
   */
  reuseRunning?: boolean;
  /** Delete the broker's directory (config, logs) on stop. */
  throwaway?: boolean;
}

/** Kafka 4 moved from log4j 1 to log4j 2: the logging backend and its configuration differ. */
function logsWithLog4j2(version: string): boolean {
  return Number(version.split('.')[0]) >= 4;
}

export function kafkaLibs(version: string, dataDir: string): string {
  const libs = dataPath(dataDir, 'kafka', version, 'libs');
  if (existsSync(libs) && readdirSync(libs).some((f) => f.startsWith('kafka_2.13'))) return libs;
  mkdirSync(libs, { recursive: true });
  const log = dataPath(dataDir, 'logs', 'maven.log');
  console.log(`[kafka] resolving Apache Kafka ${version} jars from Maven Central (first run only)…`);
  const r = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      path.join(repoRoot, 'scripts/kafka/pom.xml'),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-Dkafka.version=${version}`,
      ...(logsWithLog4j2(version) ? ['-Dkafka.log4j2'] : []),
      `-DoutputDirectory=${libs}`,
    ],
    { stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')] },
  );
  if (r.error || r.status !== 0) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' | ') : '';
    throw new Error(
      `Could not resolve Kafka ${version} from Maven Central (mvn exit ${r.status ?? r.error?.message}): ${tail}`,
    );
  }
  return libs;
}

export async function ensureKafka(opts: KafkaOptions): Promise<KafkaHandle> {
  const brokers = `127.0.0.1:${opts.port}`;
  if (await portOpen(opts.port)) {
    if (opts.reuseRunning === false)
      throw new Error(`Port ${opts.port} is already in use by another process; not starting Kafka there`);
    return { brokers, started: false, stop: async () => undefined };
  }

  const libs = kafkaLibs(opts.version, opts.dataDir);
  const name = opts.name ?? `node-${opts.port}`;
  const dir = dataPath(opts.dataDir, 'kafka', name, 'x');
  const home = path.dirname(dir);
  const controllerPort = opts.controllerPort ?? (await freeControllerPort(path.join(home, 'server.properties')));
  if (opts.reuseRunning === false && (await portOpen(controllerPort)))
    throw new Error(
      `Port ${controllerPort} is already in use by another process; not starting Kafka's controller there`,
    );
  const props = path.join(home, 'server.properties');
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${opts.port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${opts.port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${path.join(home, 'data')}`,
      // One node: the internal topics cannot have the default replication factor of 3.
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=10',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'group.min.session.timeout.ms=1000',
      'auto.create.topics.enable=false',
      // A throwaway (test) broker keeps everything: a run with a shifted clock (EDDY_TEST_NOW)
      // produces records dated days or months away, which time-based retention would delete.
      opts.throwaway ? 'log.retention.ms=-1' : 'log.retention.hours=168',
      '',
    ].join('\n'),
  );
  // The same levels either way: INFO (for "Kafka Server started"), quieter for the chatty loggers.
  const quiet = ['org.apache.kafka', 'kafka.coordinator', 'state.change.logger'];
  const loggingFlag = logsWithLog4j2(opts.version) ? '-Dlog4j2.configurationFile' : '-Dlog4j.configuration';
  const loggingConfig = path.join(home, logsWithLog4j2(opts.version) ? 'log4j2.properties' : 'log4j.properties');
  writeFileSync(
    loggingConfig,
    (logsWithLog4j2(opts.version)
      ? [
          'appender.stdout.type=Console',
          'appender.stdout.name=STDOUT',
          'appender.stdout.layout.type=PatternLayout',
          'appender.stdout.layout.pattern=[%d] %p %m (%c)%n',
          'rootLogger.level=INFO',
          'rootLogger.appenderRef.stdout.ref=STDOUT',
          ...quiet.flatMap((name, i) => [`logger.q${i}.name=${name}`, `logger.q${i}.level=WARN`]),
        ]
      : [
          'log4j.rootLogger=INFO, stdout',
          'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
          'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
          'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
          ...quiet.map((name) => `log4j.logger.${name}=WARN`),
        ]
    )
      .concat('')
      .join('\n'),
  );
  const logging = `${loggingFlag}=file:${loggingConfig}`;
  const cp = `${libs}/*`;
  const logFile = dataPath(opts.dataDir, 'logs', `kafka-${name}.log`);
  const format = spawnSync(
    'java',
    ['-cp', cp, logging, 'kafka.tools.StorageTool', 'format', '-t', CLUSTER_ID, '-c', props, '--ignore-formatted'],
    {
      encoding: 'utf8',
    },
  );
  if (format.status !== 0)
    throw new Error(
      `Kafka storage format failed: ${(format.stderr || format.stdout || String(format.error)).trim().split('\n').slice(-3).join(' | ')}`,
    );

  const out = openSync(logFile, 'w');
  const child = spawn('java', ['-Xmx512m', '-Xms128m', '-cp', cp, logging, 'kafka.Kafka', props], {
    stdio: ['ignore', out, out],
    detached: true,
  });
  child.unref();
  writeFileSync(path.join(home, 'kafka.pid'), String(child.pid));
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  try {
    await waitFor(
      `Kafka ${opts.version} on ${brokers}`,
      async () => {
        if (exited !== null) throw new Error(`Kafka exited with ${exited} during start-up: ${tail(logFile)}`);
        return readFileSync(logFile, 'utf8').includes('Kafka Server started') && (await portOpen(opts.port));
      },
      60_000,
      () => `Last log lines: ${tail(logFile)}`,
    );
  } catch (e) {
    // A broker that never came up (a port taken meanwhile, a timeout) must not linger detached.
    if (exited === null && child.pid) await stopProcess(child.pid, 10_000).catch(() => undefined);
    throw e;
  }
  const pid = child.pid!;
  return {
    brokers,
    started: true,
    pid,
    stop: async () => {
      await stopProcess(pid, 30_000);
      if (opts.throwaway) rmSync(home, { recursive: true, force: true });
    },
  };
}

async function freeControllerPort(previousProps: string): Promise<number> {
  const previous = existsSync(previousProps)
    ? /CONTROLLER:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(previousProps, 'utf8'))?.[1]
    : undefined;
  if (previous && !(await portOpen(Number(previous)))) return Number(previous);
  return freePort();
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}

export async function stopProcess(pid: number, graceMs: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  if (alive()) process.kill(pid, 'SIGKILL');
}
