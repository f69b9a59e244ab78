import type pg from 'pg';
import { analyticsPool, transaction } from '../db/client';
import { env } from '../env';
import { EddyError } from '../errors';
import { ConcurrencyGate } from './fair-reads';

/**
 * The filtered engines' reads of one site (event-engine.ts, fact-engine.ts): at most
 * ANALYTICS_SITE_CONCURRENCY at once per site and engine on the analytics pool (fair-reads.ts),
 * each transaction stopped after `timeoutMs` with a 4xx that says why instead of hogging the database.
 */
export function boundedReads(opts: { timeoutMs: number; tooLong: string; workMem?: string }) {
  let siteGate: ConcurrencyGate | undefined;
  return async <T>(siteId: string, work: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    siteGate ??= new ConcurrencyGate(env().ANALYTICS_SITE_CONCURRENCY, 32, 'filtered queries for this site');
    try {
      return await siteGate.run(siteId, () =>
        transaction(analyticsPool(), async (c) => {
          await c.query(`SET LOCAL statement_timeout = ${opts.timeoutMs}`);
          // One core per query: parallel workers would let one site's scan take the whole machine.
          await c.query('SET LOCAL max_parallel_workers_per_gather = 0');
          if (opts.workMem) await c.query(`SET LOCAL work_mem = '${opts.workMem}'`);
          return work(c);
        }),
      );
    } catch (e) {
      if ((e as { code?: string }).code === '57014') throw new EddyError('bad_request', opts.tooLong);
      throw e;
    }
  };
}
