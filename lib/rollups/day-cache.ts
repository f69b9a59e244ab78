import type pg from 'pg';
import type { Queryable } from '@/lib/db/client';

// The compacted copy of settled days (`rollup_days`, `rollup_day_sketches`, versioned by
// `rollup_day_versions`): a cache of `rollups`, built and judged by lib/analytics/day-cache.ts.
// A copy is current while the newest `updated_at` of its day's totals rows is the one it was built from.

/** Per day bucket (ISO timestamps): the totals' newest `updated_at` and the version the copy was built from. */
export async function dayVersions(
  q: Queryable,
  siteId: string,
  days: string[],
): Promise<{ bucket: Date; src: Date; built: Date | null }[]> {
  const { rows } = await q.query<{ bucket: Date; src: Date; built: Date | null }>(
    `SELECT r.bucket, max(r.updated_at) AS src, v.source_updated_at AS built
       FROM rollups r
       LEFT JOIN rollup_day_versions v ON v.site_id = r.site_id AND v.day = r.bucket
      WHERE r.site_id = $1 AND r.granularity = 'day' AND r.dimension = '' AND r.value = '' AND r.bucket = ANY($2::timestamptz[])
      GROUP BY r.bucket, v.source_updated_at`,
    [siteId, days],
  );
  return rows;
}

/** The day's source version, and whether nothing changed it for `quietMs`. */
export async function daySource(
  c: pg.PoolClient,
  siteId: string,
  dayIso: string,
  quietMs: number,
): Promise<{ src: Date | null; quiet: boolean } | undefined> {
  const src = await c.query<{ src: Date | null; quiet: boolean }>(
    `SELECT max(updated_at) AS src, max(updated_at) < now() - make_interval(secs => $3::float8 / 1000) AS quiet
       FROM rollups WHERE site_id = $1 AND granularity = 'day' AND dimension = '' AND value = '' AND bucket = $2`,
    [siteId, dayIso, quietMs],
  );
  return src.rows[0];
}

/** The source version the day's copy was built from, if any. */
export async function builtVersion(c: pg.PoolClient, siteId: string, dayIso: string): Promise<Date | undefined> {
  const done = await c.query<{ built: Date }>(
    'SELECT source_updated_at AS built FROM rollup_day_versions WHERE site_id = $1 AND day = $2',
    [siteId, dayIso],
  );
  return done.rows[0]?.built;
}

export async function clearDay(c: pg.PoolClient, siteId: string, dayIso: string): Promise<void> {
  await c.query('DELETE FROM rollup_days WHERE site_id = $1 AND day = $2', [siteId, dayIso]);
  await c.query('DELETE FROM rollup_day_sketches WHERE site_id = $1 AND day = $2', [siteId, dayIso]);
}

/** The dimensions with rows on that day ('' for the totals). */
export async function dayDimensions(c: pg.PoolClient, siteId: string, dayIso: string): Promise<string[]> {
  const dims = await c.query<{ dimension: string }>(
    `SELECT DISTINCT dimension FROM rollups WHERE site_id = $1 AND granularity = 'day' AND bucket = $2`,
    [siteId, dayIso],
  );
  return dims.rows.map((r) => r.dimension);
}

export interface DimensionDayRow {
  value: string;
  pageviews: number;
  events: number;
  sessions: number;
  bounces: number;
  duration_ms: string;
  visit_pageviews: number;
  sketches: unknown[] | null;
}

/** One dimension of one day, summed over source partitions, its sketches as a list to merge. */
export async function dimensionDay(
  c: pg.PoolClient,
  siteId: string,
  dayIso: string,
  dimension: string,
): Promise<DimensionDayRow[]> {
  const { rows } = await c.query<DimensionDayRow>(
    `SELECT value, sum(pageviews)::int AS pageviews, sum(events)::int AS events, sum(sessions)::int AS sessions, sum(bounces)::int AS bounces,
            sum(duration_ms)::text AS duration_ms, sum(visit_pageviews)::int AS visit_pageviews, json_agg(visitors) FILTER (WHERE visitors IS NOT NULL) AS sketches
       FROM rollups WHERE site_id = $1 AND granularity = 'day' AND bucket = $2 AND dimension = $3
      GROUP BY value`,
    [siteId, dayIso, dimension],
  );
  return rows;
}

export async function insertDayRows(
  c: pg.PoolClient,
  siteId: string,
  dimension: string,
  dayIso: string,
  chunk: DimensionDayRow[],
): Promise<void> {
  await c.query(
    `INSERT INTO rollup_days (site_id, dimension, day, value, pageviews, events, sessions, bounces, duration_ms, visit_pageviews)
     SELECT $1, $2, $3, u.v, u.pv, u.ev, u.s, u.b, u.d, u.vp FROM unnest($4::text[], $5::int[], $6::int[], $7::int[], $8::int[], $9::bigint[], $10::int[]) AS u(v, pv, ev, s, b, d, vp)`,
    [
      siteId,
      dimension,
      dayIso,
      chunk.map((r) => r.value),
      chunk.map((r) => r.pageviews),
      chunk.map((r) => r.events),
      chunk.map((r) => r.sessions),
      chunk.map((r) => r.bounces),
      chunk.map((r) => r.duration_ms),
      chunk.map((r) => r.visit_pageviews),
    ],
  );
}

/** Merged sketches, one per value (JSON text). */
export async function insertDaySketches(
  c: pg.PoolClient,
  siteId: string,
  dimension: string,
  dayIso: string,
  sketches: { value: string; json: string }[],
): Promise<void> {
  await c.query(
    `INSERT INTO rollup_day_sketches (site_id, dimension, day, value, visitors)
     SELECT $1, $2, $3, u.v, u.vis FROM unnest($4::text[], $5::jsonb[]) AS u(v, vis)`,
    [siteId, dimension, dayIso, sketches.map((s) => s.value), sketches.map((s) => s.json)],
  );
}

export async function markBuilt(c: pg.PoolClient, siteId: string, dayIso: string, source: Date): Promise<void> {
  await c.query(
    `INSERT INTO rollup_day_versions (site_id, day, source_updated_at, built_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (site_id, day) DO UPDATE SET source_updated_at = EXCLUDED.source_updated_at, built_at = now()`,
    [siteId, dayIso, source],
  );
}
