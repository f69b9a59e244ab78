import type { Queryable } from '@/lib/db/client';
import type { BucketPredicate } from './bucket-predicate';

// The dashboard's breakdowns (lib/analytics/rollup-engine.ts): sums per value of one dimension,
// then the visitor sketches of the values shown — from `rollups` for the segments of a period's
// cover, from the compacted day cache for settled days.

export interface SumRow {
  value: string;
  pageviews: number;
  sessions: number;
  bounces: number;
  duration_ms: number;
  visit_pageviews: number;
}

/** `where` numbered from $3. */
export async function breakdownSums(
  q: Queryable,
  siteId: string,
  dimension: string,
  where: BucketPredicate,
): Promise<SumRow[]> {
  const { rows } = await q.query<SumRow>(
    `SELECT value, sum(pageviews)::float8 AS pageviews, sum(sessions)::float8 AS sessions, sum(bounces)::float8 AS bounces, sum(duration_ms)::float8 AS duration_ms,
            sum(visit_pageviews)::float8 AS visit_pageviews
       FROM rollups WHERE site_id = $1 AND dimension = $2 AND ${where.sql} GROUP BY value`,
    [siteId, dimension, ...where.params],
  );
  return rows;
}

export async function dayCacheBreakdownSums(
  q: Queryable,
  siteId: string,
  dimension: string,
  days: string[],
): Promise<SumRow[]> {
  const { rows } = await q.query<SumRow>(
    `SELECT value, sum(pageviews)::float8 AS pageviews, sum(sessions)::float8 AS sessions, sum(bounces)::float8 AS bounces, sum(duration_ms)::float8 AS duration_ms,
            sum(visit_pageviews)::float8 AS visit_pageviews
       FROM rollup_days WHERE site_id = $1 AND dimension = $2 AND day = ANY($3::timestamptz[]) GROUP BY value`,
    [siteId, dimension, days],
  );
  return rows;
}

/** Every sketch of these values, unmerged; `where` numbered from $4. */
export async function valueSketches(
  q: Queryable,
  siteId: string,
  dimension: string,
  values: string[],
  where: BucketPredicate,
): Promise<{ value: string; visitors: unknown }[]> {
  const { rows } = await q.query<{ value: string; visitors: unknown }>(
    `SELECT value, visitors FROM rollups WHERE site_id = $1 AND dimension = $2 AND value = ANY($3) AND visitors IS NOT NULL AND ${where.sql}`,
    [siteId, dimension, values, ...where.params],
  );
  return rows;
}

export async function dayCacheValueSketches(
  q: Queryable,
  siteId: string,
  dimension: string,
  values: string[],
  days: string[],
): Promise<{ value: string; visitors: unknown }[]> {
  const { rows } = await q.query<{ value: string; visitors: unknown }>(
    'SELECT value, visitors FROM rollup_day_sketches WHERE site_id = $1 AND dimension = $2 AND value = ANY($3) AND day = ANY($4::timestamptz[])',
    [siteId, dimension, values, days],
  );
  return rows;
}
