import { pool } from '../db/client';
import { coalesceSegments, coverRange, type Segment } from './cover';
import { isEventDimension, isSessionDimension, rankMeasure, type Dimension } from './dimensions';
import { metricsFrom, type BreakdownRow, type Metrics, type SeriesPoint, type Sums } from './metrics';
import type { Period, Point } from './range';
import { VisitorUnion } from './sketches';
import { addDays, zonedMidnight } from './time-zone';

// Unfiltered dashboard queries, answered from the rollups the workers keep: sums over
// source partitions and covering buckets, visitor sketches merged (never added).

function localMidnights(p: Period, tz: string): number[] {
  const out: number[] = [];
  for (let d = addDays(p.from, -1); d <= addDays(p.to, 2); d = addDays(d, 1)) out.push(zonedMidnight(d, tz));
  return out;
}

export function segmentsFor(p: Period, tz: string): Segment[] {
  const midnights = localMidnights(p, tz);
  return coalesceSegments(p.points.flatMap((pt) => coverRange(pt.start, pt.end, midnights)));
}

/** `(granularity = … AND bucket >= … AND bucket < …) OR …`, parameters from `$first`. */
export function segmentPredicate(segments: Segment[], first: number): { sql: string; params: (string | Date)[] } {
  if (segments.length === 0) return { sql: 'false', params: [] };
  const params: (string | Date)[] = [];
  const terms = segments.map((s) => {
    params.push(s.granularity, new Date(s.start), new Date(s.end));
    const i = first + params.length - 3;
    return `(granularity = $${i}::"Granularity" AND bucket >= $${i + 1} AND bucket < $${i + 2})`;
  });
  return { sql: `(${terms.join(' OR ')})`, params };
}

function pointIndex(points: Point[], t: number): number {
  let lo = 0;
  let hi = points.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (t < points[mid]!.start) hi = mid - 1;
    else if (t >= points[mid]!.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

interface TotalsRow {
  bucket: Date;
  pageviews: number;
  sessions: number;
  bounces: number;
  duration_ms: number;
  sketches: unknown[] | null;
}

export async function rollupSeries(siteId: string, p: Period, tz: string, now: number): Promise<{ summary: Metrics; series: SeriesPoint[] }> {
  const where = segmentPredicate(segmentsFor(p, tz), 2);
  const { rows } = await pool().query<TotalsRow>(
    `SELECT bucket, sum(pageviews)::float8 AS pageviews, sum(sessions)::float8 AS sessions, sum(bounces)::float8 AS bounces,
            sum(duration_ms)::float8 AS duration_ms, json_agg(visitors) FILTER (WHERE visitors IS NOT NULL) AS sketches
       FROM rollups
      WHERE site_id = $1 AND dimension = '' AND value = '' AND ${where.sql}
      GROUP BY granularity, bucket`,
    [siteId, ...where.params],
  );
  const perPoint = p.points.map(() => ({ union: new VisitorUnion(), sums: { pageviews: 0, sessions: 0, bounces: 0, durationMs: 0 } as Sums }));
  for (const r of rows) {
    const i = pointIndex(p.points, r.bucket.getTime());
    if (i < 0) continue;
    const acc = perPoint[i]!;
    acc.sums.pageviews += r.pageviews;
    acc.sums.sessions += r.sessions;
    acc.sums.bounces += r.bounces;
    acc.sums.durationMs += r.duration_ms;
    for (const s of r.sketches ?? []) acc.union.add(s);
  }
  const total = new VisitorUnion();
  const sums: Sums = { pageviews: 0, sessions: 0, bounces: 0, durationMs: 0 };
  const series = p.points.map((pt, i) => {
    const acc = perPoint[i]!;
    total.merge(acc.union);
    sums.pageviews += acc.sums.pageviews;
    sums.sessions += acc.sums.sessions;
    sums.bounces += acc.sums.bounces;
    sums.durationMs += acc.sums.durationMs;
    return { start: pt.start, label: pt.label, visitors: acc.union.estimate(), pageviews: acc.sums.pageviews, sessions: acc.sums.sessions, future: pt.start > now };
  });
  return { summary: metricsFrom(total.estimate(), sums), series };
}

export async function rollupBreakdown(siteId: string, p: Period, tz: string, dimension: Dimension, limit: number): Promise<BreakdownRow[]> {
  const where = segmentPredicate(segmentsFor(p, tz), 4);
  const rank = rankMeasure(dimension);
  const { rows } = await pool().query<{ value: string; pageviews: number; sessions: number; bounces: number; duration_ms: number }>(
    `SELECT value, sum(pageviews)::float8 AS pageviews, sum(sessions)::float8 AS sessions, sum(bounces)::float8 AS bounces, sum(duration_ms)::float8 AS duration_ms
       FROM rollups
      WHERE site_id = $1 AND dimension = $2 AND ${where.sql}
      GROUP BY value
     HAVING sum(${rank}) > 0
      ORDER BY sum(${rank}) DESC, value
      LIMIT $3`,
    [siteId, dimension, limit, ...where.params],
  );
  const unions = new Map<string, VisitorUnion>();
  if (isEventDimension(dimension) && rows.length) {
    const sk = segmentPredicate(segmentsFor(p, tz), 4);
    const sketches = await pool().query<{ value: string; visitors: unknown }>(
      `SELECT value, visitors FROM rollups
        WHERE site_id = $1 AND dimension = $2 AND value = ANY($3) AND visitors IS NOT NULL AND ${sk.sql}`,
      [siteId, dimension, rows.map((r) => r.value), ...sk.params],
    );
    for (const s of sketches.rows) {
      let u = unions.get(s.value);
      if (!u) unions.set(s.value, (u = new VisitorUnion()));
      u.add(s.visitors);
    }
  }
  return rows.map((r) => {
    const m = metricsFrom(0, { pageviews: r.pageviews, sessions: r.sessions, bounces: r.bounces, durationMs: r.duration_ms });
    const session = isSessionDimension(dimension);
    return {
      value: r.value,
      visitors: isEventDimension(dimension) ? (unions.get(r.value)?.estimate() ?? 0) : null,
      pageviews: isEventDimension(dimension) ? r.pageviews : null,
      sessions: session ? r.sessions : null,
      bounceRate: session ? m.bounceRate : null,
      avgDurationMs: session ? m.avgDurationMs : null,
    };
  });
}
