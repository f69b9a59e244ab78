import type { HyperLogLogJson } from '@/lib/stream';
import type { Queryable } from '@/lib/db/client';

// The live dashboard's window (lib/live/snapshot.ts): minute rows, the open minute included (the
// workers rewrite it on every batch, not only when it closes).

export interface LiveMinuteRow {
  bucket: Date;
  pageviews: number;
  sessions: number;
  bounces: number;
  visitors: HyperLogLogJson | null;
  updated_at: Date;
}

/** The totals' minute rows since `since` (ISO), one per source partition. */
export async function liveMinuteTotals(q: Queryable, siteId: string, since: string): Promise<LiveMinuteRow[]> {
  const { rows } = await q.query<LiveMinuteRow>(
    `SELECT bucket, pageviews, sessions, bounces, visitors, updated_at FROM rollups
     WHERE site_id = $1 AND granularity = 'minute' AND dimension = '' AND bucket >= $2`,
    [siteId, since],
  );
  return rows;
}

/** The minute rows of these dimensions since `since` (ISO), one per value and source partition. */
export async function liveMinuteBreakdown(
  q: Queryable,
  siteId: string,
  dimensions: string[],
  since: string,
): Promise<{ dimension: string; value: string; pageviews: number; visitors: HyperLogLogJson | null }[]> {
  const { rows } = await q.query<{
    dimension: string;
    value: string;
    pageviews: number;
    visitors: HyperLogLogJson | null;
  }>(
    `SELECT dimension, value, pageviews, visitors FROM rollups
     WHERE site_id = $1 AND granularity = 'minute' AND dimension = ANY($2) AND bucket >= $3`,
    [siteId, dimensions, since],
  );
  return rows;
}
