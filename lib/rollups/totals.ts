import type { Queryable } from '@/lib/db/client';
import type { BucketPredicate } from './bucket-predicate';

// The dashboard's totals per bucket (lib/analytics/rollup-engine.ts): from `rollups` for the
// segments of a period's cover, from the compacted day cache for settled days (day-cache.ts).

export interface TotalsRow {
  bucket: Date;
  pageviews: number;
  sessions: number;
  bounces: number;
  duration_ms: number;
  visit_pageviews: number;
  sketches: unknown[] | null;
}

/** Sums over source partitions per bucket, sketches as a list to merge; `where` numbered from $2. */
export async function rollupTotals(q: Queryable, siteId: string, where: BucketPredicate): Promise<TotalsRow[]> {
  const { rows } = await q.query<TotalsRow>(
    `SELECT bucket, sum(pageviews)::float8 AS pageviews, sum(sessions)::float8 AS sessions, sum(bounces)::float8 AS bounces,
            sum(duration_ms)::float8 AS duration_ms, sum(visit_pageviews)::float8 AS visit_pageviews,
            json_agg(visitors) FILTER (WHERE visitors IS NOT NULL) AS sketches
       FROM rollups
      WHERE site_id = $1 AND dimension = '' AND value = '' AND ${where.sql}
      GROUP BY granularity, bucket`,
    [siteId, ...where.params],
  );
  return rows;
}

/** The same shape from the compacted copy of these days (ISO timestamps of local midnights). */
export async function dayCacheTotals(q: Queryable, siteId: string, days: string[]): Promise<TotalsRow[]> {
  const { rows } = await q.query<TotalsRow>(
    `SELECT d.day AS bucket, d.pageviews::float8 AS pageviews, d.sessions::float8 AS sessions, d.bounces::float8 AS bounces,
            d.duration_ms::float8 AS duration_ms, d.visit_pageviews::float8 AS visit_pageviews, CASE WHEN k.visitors IS NULL THEN NULL ELSE json_build_array(k.visitors) END AS sketches
       FROM rollup_days d
       LEFT JOIN rollup_day_sketches k ON k.site_id = d.site_id AND k.dimension = d.dimension AND k.day = d.day AND k.value = d.value
      WHERE d.site_id = $1 AND d.dimension = '' AND d.value = '' AND d.day = ANY($2::timestamptz[])`,
    [siteId, days],
  );
  return rows;
}
