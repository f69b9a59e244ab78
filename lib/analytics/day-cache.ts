import type pg from 'pg';
import { pool, transaction } from '../db/client';
import { VisitorUnion } from './sketches';

// Compaction of settled days. The workers keep one rollup row per day, dimension value and
// source partition, each with its visitor sketch inline; a 30-day breakdown then scans ~6 wide
// rows per value and day. Once a day is settled (ended SETTLED_AFTER_MS ago, well past the
// workers' allowed lateness), the web process folds it into `rollup_days` (narrow sums, one row
// per value) and `rollup_day_sketches` (one merged sketch per value). It is a cache, never the
// truth: every change to a day's rollups also touches that day's totals rows, so a day whose
// totals' newest `updated_at` differs from the version it was compacted from is read from
// `rollups` again (and recompacted in the background).

export const SETTLED_AFTER_MS = 2 * 3600_000;
/** A day is only compacted when its rollups have not changed for this long. */
const QUIET_MS = 60_000;
/** Precision of breakdown sketches in the cache (totals keep the workers' 14). */
export const BREAKDOWN_PRECISION = 12;

/** Which of these day buckets have a compacted copy that is still current. */
export async function freshDays(siteId: string, days: number[]): Promise<{ fresh: Set<number>; stale: number[] }> {
  if (days.length === 0) return { fresh: new Set(), stale: [] };
  const { rows } = await pool().query<{ bucket: Date; src: Date; built: Date | null }>(
    `SELECT r.bucket, max(r.updated_at) AS src, v.source_updated_at AS built
       FROM rollups r
       LEFT JOIN rollup_day_versions v ON v.site_id = r.site_id AND v.day = r.bucket
      WHERE r.site_id = $1 AND r.granularity = 'day' AND r.dimension = '' AND r.value = '' AND r.bucket = ANY($2::timestamptz[])
      GROUP BY r.bucket, v.source_updated_at`,
    [siteId, days.map((d) => new Date(d).toISOString())],
  );
  const fresh = new Set<number>();
  const stale: number[] = [];
  for (const r of rows) {
    if (r.built !== null && r.built.getTime() === r.src.getTime()) fresh.add(r.bucket.getTime());
    else stale.push(r.bucket.getTime());
  }
  return { fresh, stale };
}

interface DimensionRow {
  value: string;
  pageviews: number;
  events: number;
  sessions: number;
  bounces: number;
  duration_ms: string;
  visit_pageviews: number;
  sketches: unknown[] | null;
}

/** Compacts one day of one site (idempotent; concurrent callers serialise on an advisory lock). Returns rows written. */
export async function compactDay(siteId: string, day: number): Promise<number> {
  const dayIso = new Date(day).toISOString();
  return transaction(pool(), async (c) => {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rollup_days:${siteId}:${day}`]);
    // The version is read before the data (READ COMMITTED: each statement sees all commits so
    // far), so the copy is never older than the version it claims; a newer copy is harmless.
    const src = await c.query<{ src: Date | null; quiet: boolean }>(
      `SELECT max(updated_at) AS src, max(updated_at) < now() - make_interval(secs => $3::float8 / 1000) AS quiet
         FROM rollups WHERE site_id = $1 AND granularity = 'day' AND dimension = '' AND value = '' AND bucket = $2`,
      [siteId, dayIso, QUIET_MS],
    );
    const source = src.rows[0]?.src;
    // A day changed in the last minute may still have a transaction in flight with the same
    // timestamp; leave it to a later pass.
    if (!source || !src.rows[0]!.quiet) return 0;
    const done = await c.query<{ built: Date }>(
      'SELECT source_updated_at AS built FROM rollup_day_versions WHERE site_id = $1 AND day = $2',
      [siteId, dayIso],
    );
    if (done.rows[0]?.built.getTime() === source.getTime()) return 0;
    await c.query('DELETE FROM rollup_days WHERE site_id = $1 AND day = $2', [siteId, dayIso]);
    await c.query('DELETE FROM rollup_day_sketches WHERE site_id = $1 AND day = $2', [siteId, dayIso]);
    const dims = await c.query<{ dimension: string }>(
      `SELECT DISTINCT dimension FROM rollups WHERE site_id = $1 AND granularity = 'day' AND bucket = $2`,
      [siteId, dayIso],
    );
    let written = 0;
    // One dimension at a time keeps memory bounded by the largest dimension of the day.
    for (const { dimension } of dims.rows) {
      const { rows } = await c.query<DimensionRow>(
        `SELECT value, sum(pageviews)::int AS pageviews, sum(events)::int AS events, sum(sessions)::int AS sessions, sum(bounces)::int AS bounces,
                sum(duration_ms)::text AS duration_ms, sum(visit_pageviews)::int AS visit_pageviews, json_agg(visitors) FILTER (WHERE visitors IS NOT NULL) AS sketches
           FROM rollups WHERE site_id = $1 AND granularity = 'day' AND bucket = $2 AND dimension = $3
          GROUP BY value`,
        [siteId, dayIso, dimension],
      );
      written += await insertDay(c, siteId, dayIso, dimension, rows);
    }
    await c.query(
      `INSERT INTO rollup_day_versions (site_id, day, source_updated_at, built_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (site_id, day) DO UPDATE SET source_updated_at = EXCLUDED.source_updated_at, built_at = now()`,
      [siteId, dayIso, source],
    );
    return written;
  });
}

async function insertDay(
  c: pg.PoolClient,
  siteId: string,
  dayIso: string,
  dimension: string,
  rows: DimensionRow[],
): Promise<number> {
  const precision = dimension === '' ? 0 : BREAKDOWN_PRECISION;
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000);
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
    const sketches = chunk
      .map((r) => {
        const u = new VisitorUnion(precision);
        for (const s of r.sketches ?? []) u.add(s);
        return { value: r.value, json: u.toJSON() };
      })
      .filter((s) => s.json !== null);
    if (sketches.length) {
      await c.query(
        `INSERT INTO rollup_day_sketches (site_id, dimension, day, value, visitors)
         SELECT $1, $2, $3, u.v, u.vis FROM unnest($4::text[], $5::jsonb[]) AS u(v, vis)`,
        [siteId, dimension, dayIso, sketches.map((s) => s.value), sketches.map((s) => JSON.stringify(s.json))],
      );
    }
  }
  return rows.length;
}

// Background compaction: the dashboard never waits for it. One day at a time per process; a
// second web process compacting the same day waits on the advisory lock and then finds it done.
const queue = new Map<string, { siteId: string; day: number }>();
let draining = false;

export function scheduleCompaction(siteId: string, days: number[]): void {
  for (const day of days) queue.set(`${siteId}|${day}`, { siteId, day });
  if (draining || queue.size === 0) return;
  draining = true;
  void (async () => {
    while (queue.size) {
      const [key, job] = queue.entries().next().value as [string, { siteId: string; day: number }];
      queue.delete(key);
      try {
        await compactDay(job.siteId, job.day);
      } catch (e) {
        console.error(
          `[web] compacting ${job.siteId} ${new Date(job.day).toISOString()} failed: ${(e as Error).message}`,
        );
      }
    }
    draining = false;
  })();
}
