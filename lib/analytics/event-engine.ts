import type pg from 'pg';
import { analyticsPool, transaction } from '../db/client';
import { env } from '../env';
import { ConcurrencyGate } from './fair-reads';
import { EddyError } from '../errors';
import { activeFilters, eventFilterOf, isEventDimension, isSessionDimension, rankMeasure, type Dimension, type Filters } from './dimensions';
import { metricsFrom, type BreakdownRow, type Metrics, type SeriesPoint } from './metrics';
import type { Period } from './range';

// Filtered dashboard queries, answered from the raw events archive. Rollups are one-dimensional
// (pageviews by page, sessions by country, …), so "country = DE, broken down by page" needs the
// events. Sessions are rebuilt in SQL with the site's gap, with the sessions job's rules
// (workers/sessions/session-stats.ts): source, device and entry page from the first event, exit
// page from the last, a bounce is ≤ 1 pageview, no custom event and < 10 s of visible time.
//
// Filters follow the rollups' semantics, so a filtered total equals the clicked row:
// pageviews and visitors count the *events* matching (event dimensions match the event's own
// value; entry/exit page match its visit's); sessions, bounces and duration count the *visits*
// matching (visit dimensions match the visit's first event; `page` matches visits that viewed it).
// Cost grows with the events in range; unfiltered views never come here.

const ENGAGED_THRESHOLD_MS = 10_000;
/** A filtered query that scans more raw events than this allows is stopped rather than left to hog the database. */
export const FILTERED_QUERY_TIMEOUT_MS = 20_000;

// At most ANALYTICS_SITE_CONCURRENCY of these per site at once, on their own pool (fair-reads.ts).
let siteGate: ConcurrencyGate | undefined;

export async function bounded<R extends pg.QueryResultRow>(siteId: string, sql: string, params: unknown[]): Promise<R[]> {
  siteGate ??= new ConcurrencyGate(env().ANALYTICS_SITE_CONCURRENCY, 32, 'filtered queries for this site');
  try {
    return await siteGate.run(siteId, () =>
      transaction(analyticsPool(), async (c) => {
        await c.query(`SET LOCAL statement_timeout = ${FILTERED_QUERY_TIMEOUT_MS}`);
        // One core per query: parallel workers would let one site's scan take the whole machine.
        await c.query('SET LOCAL max_parallel_workers_per_gather = 0');
        return (await c.query<R>(sql, params)).rows;
      }),
    );
  } catch (e) {
    if ((e as { code?: string }).code === '57014') {
      throw new EddyError('bad_request', 'range: this filter needs too many raw events for this range; choose a shorter range');
    }
    throw e;
  }
}

/** Column of `numbered` (per event) holding each dimension's value. */
const eventColumn: Record<Dimension, string> = {
  page: 'n.page',
  entry_page: 's.entry_page',
  exit_page: 's.exit_page',
  referrer: 'n.referrer',
  channel: 'n.channel',
  utm_source: 'n.utm_source',
  utm_medium: 'n.utm_medium',
  utm_campaign: 'n.utm_campaign',
  country: 'n.country',
  device: 'n.device',
  browser: 'n.browser',
  os: 'n.os',
};

/** How far past a range's end its visits are followed (a visit is rarely active for longer). */
const VISIT_LOOKAHEAD_HOURS = 6;

interface Built {
  sql: string;
  params: unknown[];
}

/** The shared CTEs: `fe` (matching events, with `bucket` when points are given) and `fs` (matching visits). */
function base(siteId: string, p: Period, gapMinutes: number, filters: Filters, withPoints: boolean): Built {
  const params: unknown[] = [siteId, new Date(p.start), new Date(p.end), gapMinutes];
  const add = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  // The reference engine knows the dimension filters only; answering without the event filters would be a wrong number.
  if (eventFilterOf(filters)) throw new EddyError('bad_request', 'custom_event and event_prop are answered by the fact engine (fact-engine.ts)');
  const eventPreds: string[] = [];
  const sessionPreds: string[] = [];
  for (const [d, v] of activeFilters(filters)) {
    const ph = add(v);
    eventPreds.push(`${eventColumn[d]} = ${ph}`);
    if (d === 'page') sessionPreds.push(`${ph} = ANY(s.pages)`);
    else sessionPreds.push(`s.${d} = ${ph}`);
  }
  const bounds = withPoints ? add(p.points.map((pt) => new Date(pt.start).toISOString())) : null;
  const sql = `
    WITH ev AS (
      SELECT e.visitor_id, e.ts, e.name,
             coalesce(e.record->>'path', '/') AS page,
             -- A navigation inside the site is no source (as in the rollups): no referrer, no channel
             -- for the event, and a visit that starts with one (a tab left open past the gap) is direct.
             CASE WHEN e.record->>'channel' = 'internal' THEN NULL ELSE coalesce(e.record->>'referrerHost', '(direct)') END AS referrer,
             CASE WHEN e.record->>'channel' = 'internal' THEN NULL ELSE coalesce(e.record->>'channel', 'direct') END AS channel,
             e.record->'utm'->>'source' AS utm_source,
             e.record->'utm'->>'medium' AS utm_medium,
             e.record->'utm'->>'campaign' AS utm_campaign,
             coalesce(e.record->>'country', '(unknown)') AS country,
             coalesce(e.record->>'device', 'other') AS device,
             coalesce(e.record->>'browser', 'Unknown') AS browser,
             coalesce(e.record->>'os', 'Unknown') AS os,
             CASE WHEN e.name = 'engagement' THEN coalesce((e.record->'engagement'->>'visibleMs')::bigint, 0) ELSE 0 END AS visible_ms
        FROM events e
       WHERE e.site_id = $1 AND e.ts >= $2::timestamptz - make_interval(mins => $4::int)
         -- Past the range's end too: a visit that started in the range is counted whole — its
         -- pages, duration and bounce — as the sessions job counts it (a visit from 23:57 to 00:02
         -- read as a one-page bounce of 0 s otherwise). Visits go on for at most ${VISIT_LOOKAHEAD_HOURS} h after the range here.
         AND e.ts < $3::timestamptz + make_interval(hours => ${VISIT_LOOKAHEAD_HOURS})
         -- Server requests (events API) are neither pageviews, visitors nor part of visits, as in the rollups.
         AND NOT (e.record ? 'request')
    ),
    lagged AS (
      SELECT ev.*, lag(ts) OVER (PARTITION BY visitor_id ORDER BY ts) AS prev_ts FROM ev
    ),
    numbered AS (
      SELECT lagged.*,
             sum(CASE WHEN prev_ts IS NULL OR ts - prev_ts > make_interval(mins => $4::int) THEN 1 ELSE 0 END)
               OVER (PARTITION BY visitor_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS session_no
        FROM lagged
    ),
    visits AS (
      SELECT visitor_id, session_no, min(ts) AS started_at,
             extract(epoch FROM max(ts) - min(ts)) * 1000 AS duration_ms,
             count(*) FILTER (WHERE name = 'pageview') AS pageviews,
             count(*) FILTER (WHERE name NOT IN ('pageview', 'engagement')) AS custom_events,
             sum(visible_ms) AS engaged_ms,
             array_agg(page) FILTER (WHERE name = 'pageview') AS pages,
             (array_agg(page ORDER BY ts))[1] AS entry_page,
             (array_agg(page ORDER BY ts DESC))[1] AS exit_page,
             coalesce((array_agg(referrer ORDER BY ts))[1], '(direct)') AS referrer,
             coalesce((array_agg(channel ORDER BY ts))[1], 'direct') AS channel,
             (array_agg(utm_source ORDER BY ts))[1] AS utm_source,
             (array_agg(utm_medium ORDER BY ts))[1] AS utm_medium,
             (array_agg(utm_campaign ORDER BY ts))[1] AS utm_campaign,
             (array_agg(country ORDER BY ts))[1] AS country,
             (array_agg(device ORDER BY ts))[1] AS device,
             (array_agg(browser ORDER BY ts))[1] AS browser,
             (array_agg(os ORDER BY ts))[1] AS os
        FROM numbered
       GROUP BY visitor_id, session_no
    ),
    fe AS (
      SELECT n.*${bounds ? `, width_bucket(n.ts, ${bounds}::timestamptz[]) AS bucket` : ''}
        FROM numbered n JOIN visits s USING (visitor_id, session_no)
       WHERE n.ts >= $2 AND n.ts < $3${eventPreds.length ? ` AND ${eventPreds.join(' AND ')}` : ''}
    ),
    fs AS (
      SELECT s.*, (s.pageviews <= 1 AND s.custom_events = 0 AND s.engaged_ms < ${ENGAGED_THRESHOLD_MS}) AS bounce${bounds ? `, width_bucket(s.started_at, ${bounds}::timestamptz[]) AS bucket` : ''}
        FROM visits s
       WHERE s.started_at >= $2 AND s.started_at < $3${sessionPreds.length ? ` AND ${sessionPreds.join(' AND ')}` : ''}
    )`;
  return { sql, params };
}

export async function eventSeries(siteId: string, p: Period, gapMinutes: number, filters: Filters, now: number): Promise<{ summary: Metrics; series: SeriesPoint[] }> {
  const b = base(siteId, p, gapMinutes, filters, true);
  const rows = await bounded<{ bucket: number | null; visitors: number; pageviews: number; sessions: number; bounces: number; duration_ms: number; visit_pageviews: number }>(
    siteId,
    `${b.sql}
     SELECT bucket, sum(visitors)::float8 AS visitors, sum(pageviews)::float8 AS pageviews, sum(sessions)::float8 AS sessions,
            sum(bounces)::float8 AS bounces, sum(duration_ms)::float8 AS duration_ms, sum(visit_pageviews)::float8 AS visit_pageviews
       FROM (
         SELECT bucket, count(DISTINCT visitor_id) AS visitors, count(*) FILTER (WHERE name = 'pageview') AS pageviews, 0 AS sessions, 0 AS bounces, 0 AS duration_ms, 0 AS visit_pageviews
           FROM fe GROUP BY GROUPING SETS ((bucket), ())
         UNION ALL
         SELECT bucket, 0, 0, count(*), count(*) FILTER (WHERE bounce), coalesce(sum(duration_ms), 0), coalesce(sum(pageviews), 0) FROM fs GROUP BY GROUPING SETS ((bucket), ())
       ) parts
      GROUP BY bucket`,
    b.params,
  );
  // GROUPING SETS' () row (bucket NULL) is the whole range: distinct visitors cannot be added up.
  const total = rows.find((r) => r.bucket === null);
  const byBucket = new Map(rows.filter((r) => r.bucket !== null).map((r) => [Number(r.bucket), r]));
  const series = p.points.map((pt, i) => {
    const r = byBucket.get(i + 1);
    return { start: pt.start, label: pt.label, visitors: r?.visitors ?? 0, pageviews: r?.pageviews ?? 0, sessions: r?.sessions ?? 0, future: pt.start > now };
  });
  const summary = metricsFrom(total?.visitors ?? 0, {
    pageviews: total?.pageviews ?? 0,
    sessions: total?.sessions ?? 0,
    bounces: total?.bounces ?? 0,
    durationMs: total?.duration_ms ?? 0,
    visitPageviews: total?.visit_pageviews ?? 0,
  });
  return { summary, series };
}

export async function eventBreakdown(siteId: string, p: Period, gapMinutes: number, filters: Filters, dimension: Dimension, limit: number, offset = 0): Promise<BreakdownRow[]> {
  const b = base(siteId, p, gapMinutes, filters, false);
  const parts: string[] = [];
  if (isEventDimension(dimension)) {
    parts.push(`SELECT ${dimension} AS value, count(DISTINCT visitor_id)::float8 AS visitors, (count(*) FILTER (WHERE name = 'pageview'))::float8 AS pageviews,
                       0::float8 AS sessions, 0::float8 AS bounces, 0::float8 AS duration_ms
                  FROM fe WHERE ${dimension} IS NOT NULL GROUP BY 1`);
  }
  if (isSessionDimension(dimension)) {
    parts.push(`SELECT ${dimension} AS value, 0::float8 AS visitors, 0::float8 AS pageviews, count(*)::float8 AS sessions,
                       (count(*) FILTER (WHERE bounce))::float8 AS bounces, coalesce(sum(duration_ms), 0)::float8 AS duration_ms
                  FROM fs WHERE ${dimension} IS NOT NULL GROUP BY 1`);
  }
  const rank = rankMeasure(dimension);
  b.params.push(limit, offset);
  const rows = await bounded<{ value: string; visitors: number; pageviews: number; sessions: number; bounces: number; duration_ms: number }>(
    siteId,
    `${b.sql}
     SELECT value, sum(visitors) AS visitors, sum(pageviews) AS pageviews, sum(sessions) AS sessions, sum(bounces) AS bounces, sum(duration_ms) AS duration_ms
       FROM (${parts.join(' UNION ALL ')}) parts
      GROUP BY value
     HAVING sum(${rank}) > 0
      ORDER BY sum(${rank}) DESC, value
      LIMIT $${b.params.length - 1} OFFSET $${b.params.length}`,
    b.params,
  );
  const session = isSessionDimension(dimension);
  const event = isEventDimension(dimension);
  return rows.map((r) => {
    // Breakdown rows show no pages per visit.
    const m = metricsFrom(0, { pageviews: r.pageviews, sessions: r.sessions, bounces: r.bounces, durationMs: r.duration_ms, visitPageviews: 0 });
    return {
      value: r.value,
      visitors: event ? r.visitors : null,
      pageviews: event ? r.pageviews : null,
      sessions: session ? r.sessions : null,
      bounceRate: session ? m.bounceRate : null,
      avgDurationMs: session ? m.avgDurationMs : null,
    };
  });
}
