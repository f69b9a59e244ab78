import type { HyperLogLogJson } from '@/lib/stream';
import type { Queryable } from '@/lib/db/client';

// The weekly digest's numbers (lib/notify/digest.ts), from the day rows: [from, to) as ISO timestamps.

/** The totals' day rows, one per source partition (visitors are merged by the caller, never summed). */
export async function dayTotals(
  q: Queryable,
  siteId: string,
  from: string,
  to: string,
): Promise<{ pageviews: number; sessions: number; bounces: number; visitors: HyperLogLogJson | null }[]> {
  const { rows } = await q.query<{
    pageviews: number;
    sessions: number;
    bounces: number;
    visitors: HyperLogLogJson | null;
  }>(
    "SELECT pageviews, sessions, bounces, visitors FROM rollups WHERE site_id = $1 AND granularity = 'day' AND dimension = '' AND bucket >= $2 AND bucket < $3",
    [siteId, from, to],
  );
  return rows;
}

export async function dayPageviews(q: Queryable, siteId: string, from: string, to: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    "SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE site_id = $1 AND granularity = 'day' AND dimension = '' AND bucket >= $2 AND bucket < $3",
    [siteId, from, to],
  );
  return rows[0]?.n ?? 0;
}

/** The five pages with most pageviews. */
export async function topPages(
  q: Queryable,
  siteId: string,
  from: string,
  to: string,
): Promise<{ path: string; pageviews: number }[]> {
  const { rows } = await q.query<{ path: string; pageviews: number }>(
    `SELECT value AS path, sum(pageviews)::int AS pageviews FROM rollups WHERE site_id = $1 AND granularity = 'day' AND dimension = 'page' AND bucket >= $2 AND bucket < $3
     GROUP BY value ORDER BY 2 DESC, 1 LIMIT 5`,
    [siteId, from, to],
  );
  return rows;
}
