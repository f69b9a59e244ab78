import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client';
import { env } from '../env';
import { EddyError } from '../errors';

// One Prisma client and one pg pool per process. Prisma serves the app's CRUD; the raw pool
// serves the hot paths (bus, workers) that need SELECT … FOR UPDATE and multi-statement
// transactions with exact control.

export type Db = InstanceType<typeof PrismaClient>;
/** Anything that runs one statement: the pool, a pool client, a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

let prisma: Db | undefined;
let rawPool: pg.Pool | undefined;
let heavyPool: pg.Pool | undefined;
let rawPoolSize = 10;

/**
 * Sizes this process's raw pool before its first use. A worker needs a connection per partition
 * it applies at once, per job, plus one beside each for the dictionary's autocommitted inserts
 * (workers/shared/value-dictionary.ts): a pool smaller than that would leave transactions waiting
 * for a connection that only another waiting transaction could give back.
 */
export function sizePool(max: number): void {
  if (rawPool) throw new EddyError('config', 'sizePool() must run before the pool is first used');
  rawPoolSize = max;
}

// BIGINT offsets are returned as strings by pg; keep them as strings end to end (like kafkajs).

export function databaseUrl(): string {
  const url = env().DATABASE_URL;
  if (!url)
    throw new EddyError(
      'config',
      'Invalid setting DATABASE_URL: required here (npm start sets it for embedded PostgreSQL)',
    );
  return url;
}

/**
 * A pool none of whose connections can crash the process. pg emits 'error' on a client whose
 * backend is terminated (or whose socket closes) — on the pool while the client idles in it, on
 * the client itself while it is checked out — and Node exits when nobody listens. Each holder of
 * a checked-out client is meant to listen (listenForLoss), but one missed path was enough: the
 * chaos suite's backend terminations (F6) kept finding a worker exiting through a client nobody
 * listened to. So every connection listens from the moment it connects, for as long as it lives;
 * the query that was running rejects anyway, and pg-pool drops a client that is no longer
 * queryable when it is given back.
 */
export function guardedPool(config: pg.PoolConfig, name: string): pg.Pool {
  const p = new pg.Pool(config);
  // The pool re-emits an idle client's loss; the client's own listener below has reported it.
  p.on('error', () => undefined);
  p.on('connect', (client) => {
    let reported = false;
    client.on('error', (e) => {
      if (!reported) console.error(`[db] ${name} connection lost: ${e.message}`);
      reported = true;
    });
  });
  return p;
}

let prismaPool: pg.Pool | undefined;

export function db(): Db {
  if (!prisma) {
    // Prisma's adapter on a pool of ours, so its connections are guarded like every other.
    prismaPool = guardedPool({ connectionString: databaseUrl() }, 'prisma');
    prisma = new PrismaClient({ adapter: new PrismaPg(prismaPool) });
  }
  return prisma;
}

export function pool(): pg.Pool {
  rawPool ??= guardedPool({ connectionString: databaseUrl(), max: rawPoolSize }, 'pool');
  return rawPool;
}

/**
 * The pool of the expensive analytical reads (filtered views from the raw events), kept apart
 * so they can never take the connections every other request needs (lib/analytics/fair-reads.ts).
 */
export function analyticsPool(): pg.Pool {
  heavyPool ??= guardedPool({ connectionString: databaseUrl(), max: env().ANALYTICS_POOL_SIZE }, 'analytics');
  return heavyPool;
}

export async function closeDb(): Promise<void> {
  const p = prisma;
  const pp = prismaPool;
  const r = rawPool;
  const h = heavyPool;
  prisma = undefined;
  prismaPool = undefined;
  rawPool = undefined;
  heavyPool = undefined;
  await p?.$disconnect();
  await Promise.all([pp?.end(), r?.end(), h?.end()]);
}

export { transaction, type TransactionOptions } from './transaction';
