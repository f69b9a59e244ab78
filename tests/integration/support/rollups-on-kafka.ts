import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { ensureTopics } from '@/lib/bus';
import { KafkaBus } from '@/lib/bus/kafka';
import { setEnv } from '@/lib/env';
import type { EventRecord } from '@/lib/events/record';
import { rollupsJob } from '@/workers/rollups/rollups-job';
import { runJob, type Job, type RunningJob } from '@/workers/runtime';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../../helpers/db';
import { kafkaBrokers } from '../../helpers/kafka';
import { jobSettings } from './job-settings';

// The real rollups job on real Kafka and a fresh database, as the dead-letter, ledger and
// tracking-stopped tests run it: a bus namespace of its own, one team, the rows a test seeds before
// the job starts (so its dimension table knows the sites), and optionally a step before the job's
// own apply, where a test makes marked records fail the way data can make a job fail.

export interface RollupsOnKafka {
  db: TestDatabase;
  pool: pg.Pool;
  bus: KafkaBus;
  job: RunningJob;
  /** For afterAll: stops the job, closes the bus and the pool, drops the database. */
  stop(): Promise<void>;
}

type Apply = Job<EventRecord>['apply'];

export async function startRollupsOnKafka(o: {
  name: string;
  partitions: number;
  /** Writes what the job must find (sites, rules) before it starts. */
  seed: (pool: pg.Pool, teamId: string) => Promise<void>;
  /** Runs on every batch before the job's own apply: throwing there fails the batch as the job's code would. */
  beforeApply?: (...args: Parameters<Apply>) => Promise<void>;
}): Promise<RollupsOnKafka> {
  setEnv({ BUS_NAMESPACE: `${o.name}${randomBytes(3).toString('hex')}.`, EVENTS_PARTITIONS: String(o.partitions) });
  const db = await freshDatabase(o.name);
  const pool = new pg.Pool({ connectionString: db.url });
  pool.on('error', () => undefined);
  let bus: KafkaBus | undefined;
  let job: RunningJob | undefined;
  const stop = async () => {
    await job?.stop();
    await bus?.close();
    await pool.end();
    await db.drop();
  };
  try {
    const team = (
      await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
    ).rows[0]!.id;
    await o.seed(pool, team);
    bus = new KafkaBus(kafkaBrokers());
    await ensureTopics(bus);
    const dims = new SiteDimensionTable(pool);
    await dims.refresh();
    const real = rollupsJob({ bus, db: pool, dims, settings: jobSettings({ EVENTS_PARTITIONS: o.partitions }) });
    const before = o.beforeApply;
    const wrapped: Job<EventRecord> = before
      ? {
          ...real,
          async apply(tx, partition, records) {
            await before(tx, partition, records);
            return real.apply(tx, partition, records);
          },
        }
      : real;
    job = await runJob(wrapped, bus, pool, { sessionTimeoutMs: 6000 });
    return { db, pool, bus, job, stop };
  } catch (e) {
    // Half a stack is still a database and a bus to give back: afterAll never sees it.
    await stop().catch(() => undefined);
    throw e;
  }
}

/** A site of the team, under a fresh public key; returns its id. */
export async function insertSite(pool: pg.Pool, teamId: string, name: string, domain: string): Promise<string> {
  const r = await pool.query<{ id: string }>(
    'INSERT INTO sites (id, team_id, name, domain, public_key) VALUES (gen_random_uuid(), $1, $2, $3, $4) RETURNING id',
    [teamId, name, domain, `k-${randomUUID()}`],
  );
  return r.rows[0]!.id;
}
