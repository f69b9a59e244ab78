import type { Queryable } from '@/lib/db/client';
import type { BucketPredicate } from './bucket-predicate';

/**
 * Server requests per path and status class, and their total (event = "request"), summed over
 * the buckets of `where` (numbered from $2). From `rollups` only: the compacted day cache is keyed
 * on the totals, which server requests do not touch.
 */
export async function serverRequestRows(
  q: Queryable,
  siteId: string,
  where: BucketPredicate,
): Promise<{ dimension: string; value: string; requests: number }[]> {
  const { rows } = await q.query<{ dimension: string; value: string; requests: number }>(
    `SELECT dimension, value, sum(events)::float8 AS requests
       FROM rollups
      WHERE site_id = $1 AND (dimension IN ('request_path', 'request_status') OR (dimension = 'event' AND value = 'request')) AND ${where.sql}
      GROUP BY dimension, value`,
    [siteId, ...where.params],
  );
  return rows;
}
