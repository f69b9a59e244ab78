import type pg from 'pg';
import { boundedReads } from './bounded-reads';
import { EddyError } from '../errors';
import {
  activeFilters,
  eventFilterOf,
  isOwnEventDimension,
  isSessionDimension,
  isSourceDimension,
  rankMeasure,
  type Dimension,
  type Filters,
} from './dimensions';
import { EVENT_SPECS, sqlText, VISIT_SPECS } from './dimension-registry';
import { breakdownRowOf, metricsOfSums, type BreakdownRow, type Metrics, type SeriesPoint } from './metrics';
import type { Period } from './range';

// Filtered dashboard queries, answered from the raw events archive. Rollups are one-dimensional
// (pageviews by page, sessions by country, …), so "country = DE, broken down by page" needs the
// events. Sessions are rebuilt in SQL with the site's gap, with the sessions job's rules
// (workers/sessions/session-stats.ts): source and entry page from the landing (first pageview, else
// the first event), device from the first event, exit page from the last, a bounce is ≤ 1 pageview, no custom event and < 10 s of visible time.
//
// Filters follow the rollups' semantics, so a filtered total equals the clicked row:
// pageviews and visitors count the *events* matching (page, country, device, browser and OS match
// the event's own value; entry/exit page and the sources match its visit's); sessions, bounces and
// duration count the *visits* matching (visit dimensions match the visit's values; `page`
// matches visits that viewed it). A source's row counts visits: its visitors and pageviews too.
// Cost grows with the events in range; unfiltered views never come here.

const ENGAGED_THRESHOLD_MS = 10_000;
/** A filtered query that scans more raw events than this allows is stopped rather than left to hog the database. */
export const FILTERED_QUERY_TIMEOUT_MS = 20_000;

const reads = boundedReads({
  timeoutMs: FILTERED_QUERY_TIMEOUT_MS,
  tooLong: 'range: this filter needs too many raw events for this range; choose a shorter range',
});

export async function bounded<R extends pg.QueryResultRow>(
  siteId: string,
  sql: string,
  params: unknown[],
): Promise<R[]> {
  return reads(siteId, async (c) => (await c.query<R>(sql, params)).rows);
}

/** The event's own value of a dimension (`numbered`); its visit's for entry/exit page and the sources. */
const eventColumn = (d: Dimension) => (isOwnEventDimension(d) ? `n.${d}` : `s.${d}`);

// The event's own values (ev) and its visit's (visits): the sessions job's rules, from the registry.
const eventValuesSql = EVENT_SPECS.map((d) => `${d.event.sql('e.record')} AS ${d.name}`).join(',\n             ');
const visitValuesSql = VISIT_SPECS.map(({ name, visit: { fromEvents: f } }) => {
  const first = `(array_agg(${f.event} ORDER BY ts${f.pick === 'last' ? ' DESC' : ''}))[1]`;
  // The landing's value (first pageview), else the first event's. A landing without a value (an
  // internal navigation: no source) falls through to the first event, which then has none either.
  const pick =
    f.pick === 'landing'
      ? `coalesce((array_agg(${f.event} ORDER BY ts) FILTER (WHERE name = 'pageview'))[1], ${first})`
      : first;
  return `${f.orElse === null ? pick : `coalesce(${pick}, ${sqlText(f.orElse)})`} AS ${name}`;
}).join(',\n             ');

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
  if (eventFilterOf(filters))
    throw new EddyError('bad_request', 'custom_event and event_prop are answered by the fact engine (fact-engine.ts)');
  const eventPreds: string[] = [];
  const sessionPreds: string[] = [];
  for (const [d, v] of activeFilters(filters)) {
    const ph = add(v);
    eventPreds.push(`${eventColumn(d)} = ${ph}`);
    if (d === 'page') sessionPreds.push(`${ph} = ANY(s.pages)`);
    else sessionPreds.push(`s.${d} = ${ph}`);
  }
  const bounds = withPoints ? add(p.points.map((pt) => new Date(pt.start).toISOString())) : null;
  const sql = `
    WITH ev AS (
      SELECT e.visitor_id, e.ts, e.name,
             -- A navigation inside the site is no source (as in the rollups): no referrer, no channel
             -- for the event, and a visit that starts with one (a tab left open past the gap) is direct.
             ${eventValuesSql},
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
             ${visitValuesSql}
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
         -- Engagement pings alone are no visit (the sessions job's rule, workers/sessions).
       WHERE (s.pageviews > 0 OR s.custom_events > 0) AND s.started_at >= $2 AND s.started_at < $3${sessionPreds.length ? ` AND ${sessionPreds.join(' AND ')}` : ''}
    )`;
  return { sql, params };
}

export async function eventSeries(
  siteId: string,
  p: Period,
  gapMinutes: number,
  filters: Filters,
  now: number,
): Promise<{ summary: Metrics; series: SeriesPoint[] }> {
  const b = base(siteId, p, gapMinutes, filters, true);
  const rows = await bounded<{
    bucket: number | null;
    visitors: number;
    pageviews: number;
    sessions: number;
    bounces: number;
    duration_ms: number;
    visit_pageviews: number;
  }>(
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
    return {
      start: pt.start,
      label: pt.label,
      visitors: r?.visitors ?? 0,
      pageviews: r?.pageviews ?? 0,
      sessions: r?.sessions ?? 0,
      future: pt.start > now,
    };
  });
  return { summary: metricsOfSums(total), series };
}

export async function eventBreakdown(
  siteId: string,
  p: Period,
  gapMinutes: number,
  filters: Filters,
  dimension: Dimension,
  limit: number,
  offset = 0,
): Promise<BreakdownRow[]> {
  const b = base(siteId, p, gapMinutes, filters, false);
  const parts: string[] = [];
  if (isOwnEventDimension(dimension)) {
    parts.push(`SELECT ${dimension} AS value, count(DISTINCT visitor_id)::float8 AS visitors, (count(*) FILTER (WHERE name = 'pageview'))::float8 AS pageviews,
                       0::float8 AS sessions, 0::float8 AS bounces, 0::float8 AS duration_ms
                  FROM fe WHERE ${dimension} IS NOT NULL GROUP BY 1`);
  }
  if (isSessionDimension(dimension)) {
    const visitsOwn = isSourceDimension(dimension)
      ? 'count(DISTINCT visitor_id)::float8 AS visitors, coalesce(sum(pageviews), 0)::float8 AS pageviews'
      : '0::float8 AS visitors, 0::float8 AS pageviews';
    parts.push(`SELECT ${dimension} AS value, ${visitsOwn}, count(*)::float8 AS sessions,
                       (count(*) FILTER (WHERE bounce))::float8 AS bounces, coalesce(sum(duration_ms), 0)::float8 AS duration_ms
                  FROM fs WHERE ${dimension} IS NOT NULL GROUP BY 1`);
  }
  const rank = rankMeasure(dimension);
  b.params.push(limit, offset);
  const rows = await bounded<{
    value: string;
    visitors: number;
    pageviews: number;
    sessions: number;
    bounces: number;
    duration_ms: number;
  }>(
    siteId,
    `${b.sql}
     SELECT value, sum(visitors) AS visitors, sum(pageviews) AS pageviews, sum(sessions) AS sessions, sum(bounces) AS bounces, sum(duration_ms) AS duration_ms
       FROM (${parts.join(' UNION ALL ')}) parts
      GROUP BY value
     HAVING sum(${rank}) > 0 OR sum(sessions) > 0
      ORDER BY sum(${rank}) DESC, sum(sessions) DESC, value
      LIMIT $${b.params.length - 1} OFFSET $${b.params.length}`,
    b.params,
  );
  return rows.map((r) => breakdownRowOf(dimension, r.value, r));
}
