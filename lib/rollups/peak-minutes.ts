import type { Json } from '@/lib/stream';
import type { Queryable } from '@/lib/db/client';

// Re-deriving a site's busiest windows from its minute rows (workers/peaks/rederive.ts): the minute
// rows hold pageviews and a visitor sketch per minute, per content group, for the whole history.

/**
 * Every window [s, s + size) with s a multiple of the slide (the assigner's alignment) that
 * holds a minute with traffic — for minute t, the starts in (t − size, t] — its pageviews,
 * ranked within its local day and group; the best `maxTies` per (group, day). Epoch seconds
 * are positive, so `/` floors. Sizes in seconds.
 */
export async function peakCandidates(
  q: Queryable,
  siteId: string,
  sizeS: number,
  slideS: number,
  timezone: string,
  maxTies: number,
): Promise<{ grp: string; start_s: string; day: string; pageviews: number }[]> {
  const { rows } = await q.query<{ grp: string; start_s: string; day: string; pageviews: number }>(
    `WITH m AS (
       SELECT CASE WHEN dimension = '' THEN '' ELSE value END AS grp, extract(epoch FROM bucket)::bigint AS t, sum(pageviews)::bigint AS pv
         FROM rollups
        WHERE site_id = $1 AND granularity = 'minute' AND (dimension = '' AND value = '' OR dimension = 'content_group')
        GROUP BY 1, 2
     ), w AS (
       SELECT grp, s, sum(pv)::int AS pageviews
         FROM m, generate_series(((t - $2) / $3) * $3 + $3, (t / $3) * $3, $3) AS s
        GROUP BY grp, s
     ), ranked AS (
       SELECT grp, s, pageviews, to_char(to_timestamp(s) AT TIME ZONE $4, 'YYYY-MM-DD') AS day,
              rank() OVER (PARTITION BY grp, to_char(to_timestamp(s) AT TIME ZONE $4, 'YYYY-MM-DD') ORDER BY pageviews DESC) AS r,
              row_number() OVER (PARTITION BY grp, to_char(to_timestamp(s) AT TIME ZONE $4, 'YYYY-MM-DD') ORDER BY pageviews DESC, s) AS n
         FROM w WHERE pageviews > 0
     )
     SELECT grp, s::text AS start_s, day, pageviews FROM ranked WHERE r = 1 AND n <= $5 ORDER BY grp, day, s`,
    [siteId, sizeS, slideS, timezone, maxTies],
  );
  return rows;
}

/** The visitor sketches of one content group's ('' for the totals) minutes in [start, end). */
export async function groupMinuteSketches(
  q: Queryable,
  siteId: string,
  group: string,
  start: number,
  end: number,
): Promise<Json[]> {
  const { rows } = await q.query<{ visitors: Json }>(
    `SELECT visitors FROM rollups
      WHERE site_id = $1 AND granularity = 'minute' AND bucket >= $2 AND bucket < $3 AND visitors IS NOT NULL
        AND (CASE WHEN $4 = '' THEN dimension = '' AND value = '' ELSE dimension = 'content_group' AND value = $4 END)`,
    [siteId, new Date(start).toISOString(), new Date(end).toISOString(), group],
  );
  return rows.map((r) => r.visitors);
}
