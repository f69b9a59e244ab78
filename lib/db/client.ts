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

export function db(): Db {
  prisma ??= new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl() }) });
  return prisma;
}

export function pool(): pg.Pool {
  if (!rawPool) {
    rawPool = new pg.Pool({ connectionString: databaseUrl(), max: rawPoolSize });
    // A backend terminated while its connection idles in the pool must not crash the process
    // (an unhandled 'error' event would): pg discards that client and the next query reconnects.
    rawPool.on('error', (e) => console.error(`[db] idle connection lost: ${e.message}`));
  }
  return rawPool;
}

/**
 * The pool of the expensive analytical reads (filtered views from the raw events), kept apart
 * so they can never take the connections every other request needs (lib/analytics/fair-reads.ts).
 */
export function analyticsPool(): pg.Pool {
  if (!heavyPool) {
    heavyPool = new pg.Pool({ connectionString: databaseUrl(), max: env().ANALYTICS_POOL_SIZE });
    heavyPool.on('error', (e) => console.error(`[db] idle analytics connection lost: ${e.message}`));
  }
  return heavyPool;
}

export async function closeDb(): Promise<void> {
  const p = prisma;
  const r = rawPool;
  const h = heavyPool;
  prisma = undefined;
  rawPool = undefined;
  heavyPool = undefined;
  await Promise.all([p?.$disconnect(), r?.end(), h?.end()]);
}

export { transaction, type TransactionOptions } from './transaction';
