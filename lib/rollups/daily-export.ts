import type { HyperLogLogJson } from '@/lib/stream';
import type { Queryable } from '@/lib/db/client';

export interface DailyTotalsRow {
  bucket: Date;
  pageviews: string;
  events: string;
  sessions: string;
  bounces: string;
  duration_ms: string;
  sketches: (HyperLogLogJson | null)[];
  imported: boolean;
}

/**
 * The totals per local day in [from, to), oldest first, for the daily export (lib/exports/stream.ts):
 * sums over source partitions as text (bigint), the day's sketches to merge, and whether a source
 * partition at or below `importedPartition` (an import's) contributed.
 */
export async function dailyTotals(
  q: Queryable,
  siteId: string,
  from: number,
  to: number,
  importedPartition: number,
): Promise<DailyTotalsRow[]> {
  const { rows } = await q.query<DailyTotalsRow>(
    `SELECT bucket, sum(pageviews)::text AS pageviews, sum(events)::text AS events, sum(sessions)::text AS sessions, sum(bounces)::text AS bounces,
            sum(duration_ms)::text AS duration_ms, array_agg(visitors) AS sketches, bool_or(source_partition <= $4) AS imported
     FROM rollups WHERE site_id = $1 AND granularity = 'day' AND dimension = '' AND value = '' AND bucket >= $2 AND bucket < $3
     GROUP BY bucket ORDER BY bucket`,
    [siteId, new Date(from), new Date(to), importedPartition],
  );
  return rows;
}
