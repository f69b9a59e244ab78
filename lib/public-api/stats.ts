import { z } from 'zod';
import { DIMENSIONS } from '../analytics/dimensions';
import { breakdownQuerySchema, siteBreakdown, siteStats, statsQuerySchema, type StatsSite } from '../analytics/stats';
import { serverRequests } from '../analytics/server-requests';
import { liveSnapshot } from '../live/snapshot';

// The stats API (GET /api/v1/stats/*): the dashboard's own queries (lib/analytics/stats.ts —
// rollups unfiltered, the raw archive filtered, the site's time zone) behind a stats:read key,
// answered in a stable, documented shape. Nothing is computed here that the dashboard computes
// differently: the tests compare every endpoint with the dashboard's routes.

const siteId = z.uuid().meta({ description: "The key's site id (another site's is answered 404)." });

export const aggregateQuerySchema = statsQuerySchema.extend({ site_id: siteId });
export const timeseriesQuerySchema = aggregateQuerySchema;
export const breakdownApiQuerySchema = breakdownQuerySchema.extend({
  site_id: siteId,
  // Not `page`: that name is the page filter (?page=/pricing), as on the dashboard.
  offset: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000)
    .default(0)
    .meta({ description: 'Ranked rows to skip: 0 for the first page, then next_offset.' }),
});
export const realtimeQuerySchema = z.object({ site_id: siteId });

const metrics = z.object({
  visitors: z.number(),
  pageviews: z.number(),
  sessions: z.number(),
  bounceRate: z.number().nullable().meta({ description: 'Share of visits that bounced, 0..1.' }),
  avgDurationMs: z.number().nullable(),
  pagesPerSession: z.number().nullable(),
});
const range = z.object({ key: z.string(), label: z.string(), from: z.string(), to: z.string(), timezone: z.string() });

export const aggregateResultSchema = z.object({
  site_id: z.string(),
  range,
  filters: z.record(z.string(), z.string()),
  results: metrics,
  previous: metrics
    .nullable()
    .meta({ description: 'The same metrics for the previous period of equal length (compare=previous).' }),
  server_requests: z.number().meta({
    description:
      'Requests your server reported (name "request", e.g. from @eddy/node) in the range; not filtered, and not part of the metrics above.',
  }),
});
export const timeseriesResultSchema = z.object({
  site_id: z.string(),
  range,
  interval: z.enum(['hour', 'day']),
  filters: z.record(z.string(), z.string()),
  results: z.array(
    z.object({
      start: z.string().meta({ description: 'ISO time the point starts (local hour or day).' }),
      label: z.string(),
      visitors: z.number(),
      pageviews: z.number(),
      sessions: z.number(),
    }),
  ),
});
export const breakdownResultSchema = z.object({
  site_id: z.string(),
  dimension: z.enum(DIMENSIONS),
  range: z.object({ from: z.string(), to: z.string() }),
  offset: z.number().int(),
  limit: z.number().int(),
  next_offset: z.number().int().nullable().meta({ description: 'The offset of the next page, or null on the last.' }),
  results: z.array(
    z.object({
      value: z.string(),
      visitors: z.number().nullable(),
      pageviews: z.number().nullable(),
      sessions: z.number().nullable(),
      bounceRate: z.number().nullable(),
      avgDurationMs: z.number().nullable(),
    }),
  ),
});
export const realtimeResultSchema = z.object({
  site_id: z.string(),
  at: z.string(),
  visitors: z
    .number()
    .meta({ description: 'Distinct visitors active in the last 5 minutes (the live header’s number).' }),
  pageviews_last_30_minutes: z.number(),
});

export async function aggregateStats(
  site: StatsSite,
  q: z.infer<typeof aggregateQuerySchema>,
  now = Date.now(),
): Promise<z.infer<typeof aggregateResultSchema>> {
  const [s, server] = await Promise.all([siteStats(site, q, now), serverRequests(site, q, now, 0)]);
  return {
    site_id: site.id,
    range: rangeOut(s.range),
    filters: s.filters as Record<string, string>,
    results: s.summary,
    previous: s.previous,
    server_requests: server.total,
  };
}

export async function timeseriesStats(
  site: StatsSite,
  q: z.infer<typeof timeseriesQuerySchema>,
  now = Date.now(),
): Promise<z.infer<typeof timeseriesResultSchema>> {
  const s = await siteStats(site, { ...q, compare: 'none' }, now);
  return {
    site_id: site.id,
    range: rangeOut(s.range),
    interval: s.range.interval,
    filters: s.filters as Record<string, string>,
    // Points after "now" hold nothing yet; the dashboard's chart stops before them too.
    results: s.series
      .filter((p) => !p.future)
      .map((p) => ({
        start: new Date(p.start).toISOString(),
        label: p.label,
        visitors: p.visitors,
        pageviews: p.pageviews,
        sessions: p.sessions,
      })),
  };
}

export async function breakdownStats(
  site: StatsSite,
  q: z.infer<typeof breakdownApiQuerySchema>,
  now = Date.now(),
): Promise<z.infer<typeof breakdownResultSchema>> {
  // One row more than asked tells whether there is a next page without counting them all.
  const b = await siteBreakdown(site, q, q.dimension, q.limit + 1, now, q.offset);
  const more = b.rows.length > q.limit;
  return {
    site_id: site.id,
    dimension: b.dimension,
    range: b.range,
    offset: q.offset,
    limit: q.limit,
    next_offset: more ? q.offset + q.limit : null,
    results: b.rows.slice(0, q.limit),
  };
}

export async function realtimeStats(site: StatsSite, now = Date.now()): Promise<z.infer<typeof realtimeResultSchema>> {
  const s = await liveSnapshot(site.id, now);
  return {
    site_id: site.id,
    at: new Date(s.at).toISOString(),
    visitors: s.currentVisitors,
    pageviews_last_30_minutes: s.minutes.reduce((n, m) => n + m.pageviews, 0),
  };
}

function rangeOut(r: { key: string; label: string; from: string; to: string; timezone: string }) {
  return { key: r.key, label: r.label, from: r.from, to: r.to, timezone: r.timezone };
}
