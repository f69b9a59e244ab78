import type { HyperLogLogJson } from '@/lib/stream';
import type { Queryable } from '@/lib/db/client';

// What alert rules measure (lib/alerts/observe.ts), from minute rows: the open minute is
// rewritten after every batch, so these see traffic within a second or two of collect.

/** Pageviews and events per dimension value over [from, to) minute buckets (sums as text: bigint). */
export async function minuteSums(
  q: Queryable,
  siteId: string,
  from: number,
  to: number,
  dimensions: string[],
): Promise<{ dimension: string; value: string; pageviews: string; events: string }[]> {
  const r = await q.query<{ dimension: string; value: string; pageviews: string; events: string }>(
    `SELECT dimension, value, sum(pageviews)::text AS pageviews, sum(events)::text AS events FROM rollups
     WHERE site_id = $1 AND granularity = 'minute' AND dimension = ANY($2) AND bucket >= $3 AND bucket < $4
     GROUP BY dimension, value`,
    [siteId, dimensions, new Date(from), new Date(to)],
  );
  return r.rows;
}

/** The totals' visitor sketches of the minutes from `since` on. */
export async function minuteVisitorSketches(
  q: Queryable,
  siteId: string,
  since: number,
): Promise<(HyperLogLogJson | null)[]> {
  const r = await q.query<{ visitors: HyperLogLogJson | null }>(
    `SELECT visitors FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = '' AND bucket >= $2`,
    [siteId, new Date(since)],
  );
  return r.rows.map((x) => x.visitors);
}

/** Pageviews and events over [from, to), and the first minute in it with any (a site's first traffic). */
export async function minuteTrafficSince(
  q: Queryable,
  siteId: string,
  from: number,
  to: number,
): Promise<{ pageviews: string; events: string; first: Date | null } | undefined> {
  const before = await q.query<{ pageviews: string; events: string; first: Date | null }>(
    `SELECT COALESCE(sum(pageviews), 0)::text AS pageviews, COALESCE(sum(events), 0)::text AS events, min(bucket) FILTER (WHERE pageviews + events > 0) AS first
     FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = '' AND bucket >= $2 AND bucket < $3`,
    [siteId, new Date(from), new Date(to)],
  );
  return before.rows[0];
}
