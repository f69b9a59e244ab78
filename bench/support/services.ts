import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '@/lib/db/migrate';
import { env, setEnv } from '@/lib/env';
import { ensureKafka } from '../../scripts/services/kafka';
import { startEmbeddedPostgres } from '../../scripts/services/postgres';

// The services a benchmark needs, as `npm test` finds them: DATABASE_URL / KAFKA_BROKERS when
// set, otherwise embedded PostgreSQL and Kafka-from-Maven started here (on their own ports, so a
// concurrent test run's broker is never borrowed or stopped) and stopped again by stop().

const BENCH_PG_PORT = 54332;
const BENCH_KAFKA_PORT = 19192;

export interface BenchServices {
  /** URL of the maintenance database, for creating throwaway benchmark databases. */
  adminUrl: string;
  brokers: string[];
  /** The broker's process when it was started here (to read its CPU time). */
  kafkaPid?: number;
  /** What was started here, for the report. */
  started: string[];
  stop(): Promise<void>;
}

export async function benchServices(opts: { kafka: boolean }): Promise<BenchServices> {
  const e = env();
  const stops: (() => Promise<void>)[] = [];
  const started: string[] = [];
  let kafkaPid: number | undefined;
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    if (!e.DATABASE_URL) {
      console.log(`[bench] DATABASE_URL unset: starting embedded PostgreSQL on 127.0.0.1:${BENCH_PG_PORT}`);
      const p = await startEmbeddedPostgres(e.EDDY_DATA_DIR, BENCH_PG_PORT, 'bench-pg');
      stops.push(p.stop);
      started.push('embedded PostgreSQL');
      setEnv({ DATABASE_URL: p.url });
    }
    if (opts.kafka && !e.KAFKA_BROKERS) {
      console.log(
        `[bench] KAFKA_BROKERS unset: starting Apache Kafka ${e.KAFKA_VERSION} (KRaft) on 127.0.0.1:${BENCH_KAFKA_PORT}`,
      );
      const k = await ensureKafka({
        version: e.KAFKA_VERSION,
        port: BENCH_KAFKA_PORT,
        dataDir: e.EDDY_DATA_DIR,
        name: 'bench',
      });
      if (k.started) {
        kafkaPid = k.pid;
        stops.push(k.stop);
        started.push(`Kafka ${e.KAFKA_VERSION}`);
      }
      setEnv({ KAFKA_BROKERS: k.brokers });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const admin = new URL(env().DATABASE_URL!);
  admin.pathname = '/postgres';
  return { adminUrl: admin.toString(), brokers: env().KAFKA_BROKERS ?? [], kafkaPid, started, stop };
}

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, migrated database, dropped by drop(). */
export async function freshBenchDatabase(adminUrl: string, label: string): Promise<BenchDatabase> {
  const name = `eddy_bench_${label}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  await migrate(url);
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
