import type pg from 'pg';

/**
 * The rollups and sessions jobs write the same rollup rows (different columns). Taking a
 * transaction-level advisory lock per (site, partition), always in the same sorted order, before
 * writing any row keeps their transactions from deadlocking on each other.
 */
export async function lockSiteRows(tx: pg.PoolClient, partition: number, siteIds: Iterable<string>): Promise<void> {
  const keys = [...new Set(siteIds)].sort();
  for (const site of keys) await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), $2)', [site, partition]);
}
