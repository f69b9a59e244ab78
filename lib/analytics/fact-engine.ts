import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import {
  activeFilters,
  allActiveFilters,
  DIMENSIONS,
  eventFilterOf,
  isOwnEventDimension,
  isSessionDimension,
  isSourceDimension,
  rankMeasure,
  type Dimension,
  type Filters,
} from './dimensions';
import { dimensionSpec, matchedEventsWhere } from './dimension-registry';
import { boundedReads } from './bounded-reads';
import {
  breakdownRowOf,
  metricsOfSums,
  type BreakdownRow,
  type SqlSums,
  type Metrics,
  type SeriesPoint,
} from './metrics';
import type { Period } from './range';
import { columnarRows } from './columnar/engine';
import { factPredicates, SENT_MATCHING_EVENT } from './fact-predicates';

// Filtered dashboard queries from the facts the workers write (issue 17): `event_facts` (one narrow
// row per archived event, written by the rollups job) and `visit_facts` (one row per visit, written
// by the sessions job with its `sessions` row), dimensions as dictionary ids (`dimension_values`).
// Nothing is rebuilt at query time: a visit is what the sessions job says it is.
//
// Same semantics as the raw-events engine (event-engine.ts), so a filtered total equals the
// clicked row: pageviews and visitors count the *events* matching (page, country, device, browser
// and OS match the event's own value; entry/exit page and the sources match its visit's);
// sessions, bounces, duration and pages per visit count the *visits* that started in the range
// and match (visit dimensions match the visit's values; `page` matches visits that viewed
// it). A source's breakdown row counts visits: its visitors and pageviews are those visits'.
//
// The event filters (`custom_event`, `event_prop`) select *visits*: those in which the visitor sent
// a matching event. Pageviews, visitors and the event breakdowns then count the events of those
// visits (as entry/exit page do), sessions and the rest count those visits (as `page` does). The
// facts hold no event names or properties, so the matching events come from the archive (its
// (site, ts) index, a name and a property compared per row, over the range and the visits' reach).
//
// One load = two statements (events, visits), each one GROUPING SETS pass that yields the totals,
// the series and every breakdown at once, instead of a query per table.

/** How far around a range visits are followed (as the raw-events engine does past its end). */
const VISIT_REACH_HOURS = 6;
const TIMEOUT_MS = 20_000;

// GROUPING SETS with distinct visitors sorts the matching rows once per set; with the default
// 4 MB each sort of ~300,000 rows spilled to disk (EXPLAIN on the 1 M-event benchmark).
const reads = boundedReads({
  timeoutMs: TIMEOUT_MS,
  workMem: '32MB',
  tooLong: 'range: this filter takes too long for this range; choose a shorter range',
});

async function bounded<R extends pg.QueryResultRow>(
  siteId: string,
  statements: { sql: string; params: unknown[] }[],
): Promise<R[][]> {
  return reads(siteId, async (c) => {
    const out: R[][] = [];
    for (const s of statements) out.push((await c.query<R>(s.sql, s.params)).rows);
    return out;
  });
}

/** Breakdowns of the events pass: the event's own values (a source's rows count its visits). */
const EVENT_DIMS = DIMENSIONS.filter(isOwnEventDimension);
const VISIT_DIMS = DIMENSIONS.filter(isSessionDimension);
/** The visits pass's sets that carry visitors and pageviews (of the visits): the sources'. */
const SOURCE_SETS = DIMENSIONS.filter(isSourceDimension)
  .map((d) => `'${d}'`)
  .join(', ');

/** What a load asks for: the totals and series, and/or some breakdowns. */
interface Want {
  series: boolean;
  breakdowns: Dimension[];
}

interface GroupRow extends SqlSums {
  set: string;
  key: number | null;
  label: string | null;
}

function statements(siteId: string, p: Period, filters: Filters, want: Want): { sql: string; params: unknown[] }[] {
  const params: unknown[] = [siteId, new Date(p.start), new Date(p.end)];
  const add = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  // A filter value the dictionary does not know matches nothing (-1 is never an id).
  const idOf = (d: Dimension, v: string) =>
    `coalesce((SELECT id FROM dimension_values WHERE site_id = $1 AND dimension = '${dimensionSpec(d).kind}' AND value = ${add(v)}), -1)`;
  const bounds = want.series ? add(p.points.map((pt) => new Date(pt.start).toISOString())) : null;
  const reach = `make_interval(hours => ${VISIT_REACH_HOURS})`;
  const eventFilter = eventFilterOf(filters);
  const matchedCte = eventFilter
    ? `ce AS MATERIALIZED (
         SELECT hashtextextended(visitor_id, 0) AS visitor, ts FROM events
          WHERE site_id = $1 AND ts >= $2::timestamptz - ${reach} AND ts < $3::timestamptz + ${reach} AND ${matchedEventsWhere(eventFilter, add)}
       ),`
    : '';
  const {
    events: eventPreds,
    visits: visitPreds,
    eventVisits: entryExit,
    pageId,
  } = factPredicates(
    activeFilters(filters).map(([d, v]) => [d, idOf(d, v)]),
    eventFilter ? SENT_MATCHING_EVENT : null,
  );

  const eventSets = [
    ...(want.series ? ['()', '(bucket)'] : []),
    ...want.breakdowns.filter(isOwnEventDimension).map((d) => `(${d})`),
  ];
  const visitSets = [
    ...(want.series ? ['()', '(bucket)'] : []),
    ...want.breakdowns.filter(isSessionDimension).map((d) => `(${d})`),
  ];
  const setName = (dims: readonly Dimension[]) =>
    `CASE ${want.series ? "WHEN GROUPING(bucket) = 0 THEN 'bucket' " : ''}${dims
      .filter((d) => want.breakdowns.includes(d))
      .map((d) => `WHEN GROUPING(${d}) = 0 THEN '${d}' `)
      .join('')}ELSE '' END`;
  const setKey = (dims: readonly Dimension[]) =>
    `CASE ${want.series ? 'WHEN GROUPING(bucket) = 0 THEN bucket ' : ''}${dims
      .filter((d) => want.breakdowns.includes(d))
      .map((d) => `WHEN GROUPING(${d}) = 0 THEN ${d} `)
      .join('')}END`;
  const out: { sql: string; params: unknown[] }[] = [];

  if (eventSets.length) {
    const eventCols = EVENT_DIMS.filter((d) => want.breakdowns.includes(d));
    // Events of visits with that entry/exit page: the visits first (few), then a hash semi-join.
    const visitsCte = entryExit.length
      ? `fv AS MATERIALIZED (
           SELECT v.visitor, v.started_at, v.ended_at FROM visit_facts v
            WHERE v.site_id = $1 AND v.started_at >= $2::timestamptz - ${reach} AND v.started_at < $3 AND v.ended_at >= $2 AND ${entryExit.join(' AND ')}
         ),`
      : '';
    const inVisit = entryExit.length
      ? ' AND EXISTS (SELECT 1 FROM fv WHERE fv.visitor = e.visitor AND e.ts >= fv.started_at AND e.ts <= fv.ended_at)'
      : '';
    out.push({
      sql: `WITH ${matchedCte} ${visitsCte} fe AS (
              SELECT e.visitor, e.kind${eventCols.map((d) => `, e.${d}`).join('')}${bounds ? `, width_bucket(e.ts, ${bounds}::timestamptz[]) AS bucket` : ''}
                FROM event_facts e
               WHERE e.site_id = $1 AND e.ts >= $2 AND e.ts < $3${eventPreds.map((x) => ` AND ${x}`).join('')}${inVisit}
            ),
            g AS (
              SELECT ${setName(EVENT_DIMS)} AS set, ${setKey(EVENT_DIMS)} AS key,
                     count(DISTINCT visitor)::float8 AS visitors, (count(*) FILTER (WHERE kind = 0))::float8 AS pageviews
                FROM fe GROUP BY GROUPING SETS (${eventSets.join(', ')})
            )
            SELECT g.set, g.key, d.value AS label, g.visitors, g.pageviews, 0::float8 AS sessions, 0::float8 AS bounces, 0::float8 AS duration_ms, 0::float8 AS visit_pageviews
              FROM g LEFT JOIN dimension_values d ON g.set NOT IN ('', 'bucket') AND d.id = g.key`,
      params,
    });
  }
  if (visitSets.length) {
    const visitCols = VISIT_DIMS.filter((d) => want.breakdowns.includes(d));
    // A source's visitors are its visits' (distinct over the visits), only computed when asked for.
    const sourceVisitors = visitCols.some(isSourceDimension);
    // Visits that viewed the page: its pageviews in the visits' reach, then a hash semi-join.
    const pagesCte = pageId
      ? `pv AS MATERIALIZED (
           SELECT visitor, ts FROM event_facts WHERE site_id = $1 AND ts >= $2 AND ts < $3::timestamptz + ${reach} AND kind = 0 AND page = ${pageId}
         ),`
      : '';
    const viewed = pageId
      ? ' AND EXISTS (SELECT 1 FROM pv WHERE pv.visitor = v.visitor AND pv.ts >= v.started_at AND pv.ts <= v.ended_at)'
      : '';
    out.push({
      sql: `WITH ${matchedCte} ${pagesCte} fs AS (
              SELECT v.visitor, v.pageviews, v.duration_ms, v.bounce${visitCols.map((d) => `, v.${d}`).join('')}${bounds ? `, width_bucket(v.started_at, ${bounds}::timestamptz[]) AS bucket` : ''}
                FROM visit_facts v
               WHERE v.site_id = $1 AND v.started_at >= $2 AND v.started_at < $3${visitPreds.map((x) => ` AND ${x}`).join('')}${viewed}
            ),
            g AS (
              SELECT ${setName(VISIT_DIMS)} AS set, ${setKey(VISIT_DIMS)} AS key, count(*)::float8 AS sessions, (count(*) FILTER (WHERE bounce))::float8 AS bounces,
                     coalesce(sum(duration_ms), 0)::float8 AS duration_ms, coalesce(sum(pageviews), 0)::float8 AS visit_pageviews,
                     ${sourceVisitors ? 'count(DISTINCT visitor)' : '0'}::float8 AS visitors
                FROM fs GROUP BY GROUPING SETS (${visitSets.join(', ')})
            )
            SELECT g.set, g.key, d.value AS label,
                   CASE WHEN g.set IN (${SOURCE_SETS}) THEN g.visitors ELSE 0 END AS visitors,
                   CASE WHEN g.set IN (${SOURCE_SETS}) THEN g.visit_pageviews ELSE 0 END AS pageviews,
                   g.sessions, g.bounces, g.duration_ms, g.visit_pageviews
              FROM g LEFT JOIN dimension_values d ON g.set NOT IN ('', 'bucket') AND d.id = g.key`,
      params,
    });
  }
  return out;
}

export interface FactLoad {
  summary: Metrics;
  series: SeriesPoint[];
  breakdowns: Partial<Record<Dimension, BreakdownRow[]>>;
}

/** Totals, series and the breakdowns asked for, of one period: two statements whatever is asked. */
export async function factLoad(
  siteId: string,
  p: Period,
  filters: Filters,
  opts: { series: boolean; breakdowns: Dimension[]; limit: number; now: number },
): Promise<FactLoad> {
  // The columnar copy when it can answer (lib/analytics/columnar/), PostgreSQL's facts otherwise.
  const rows =
    (await columnarRows(siteId, p, filters, opts)) ??
    (await bounded<GroupRow>(siteId, statements(siteId, p, filters, opts))).flat();
  // One row per (set, key) from each statement: events carry visitors and pageviews, visits the rest.
  const merged = new Map<string, GroupRow>();
  for (const r of rows) {
    if (r.set !== '' && r.key === null) continue; // a dimension without a value (e.g. no UTM source)
    const k = `${r.set}|${r.key}`;
    const m = merged.get(k);
    if (!m) merged.set(k, { ...r });
    else {
      m.visitors += r.visitors;
      m.pageviews += r.pageviews;
      m.sessions += r.sessions;
      m.bounces += r.bounces;
      m.duration_ms += r.duration_ms;
      m.visit_pageviews += r.visit_pageviews;
      m.label ??= r.label;
    }
  }
  const total = merged.get('|null');
  const summary = metricsOfSums(total);
  const series = opts.series
    ? p.points.map((pt, i) => {
        const r = merged.get(`bucket|${i + 1}`);
        return {
          start: pt.start,
          label: pt.label,
          visitors: r?.visitors ?? 0,
          pageviews: r?.pageviews ?? 0,
          sessions: r?.sessions ?? 0,
          future: pt.start > opts.now,
        };
      })
    : [];
  const breakdowns: Partial<Record<Dimension, BreakdownRow[]>> = {};
  for (const d of opts.breakdowns) {
    const rank = rankMeasure(d);
    breakdowns[d] = [...merged.values()]
      // A value with matching visits but no matching pageview is a row too (a page filter's
      // visits that arrived directly: the page itself was reached by an internal navigation).
      .filter((r) => r.set === d && (r[rank] > 0 || r.sessions > 0))
      .map((r) => ({ ...r, label: r.label ?? '' }))
      .sort(
        (x, y) => y[rank] - x[rank] || y.sessions - x.sessions || (x.label < y.label ? -1 : x.label > y.label ? 1 : 0),
      )
      .slice(0, opts.limit)
      .map((r) => breakdownRowOf(d, r.label, r));
  }
  return { summary, series, breakdowns };
}

export async function factSeries(
  siteId: string,
  p: Period,
  filters: Filters,
  now: number,
): Promise<{ summary: Metrics; series: SeriesPoint[] }> {
  const r = await factLoad(siteId, p, filters, { series: true, breakdowns: [], limit: 0, now });
  return { summary: r.summary, series: r.series };
}

/**
 * The dashboard asks for its twelve tables at once, one request each. Requests for the same site,
 * period and filters within a moment share one pass that yields every table (each would otherwise
 * scan the same facts again): the pass in flight, and its result for SHARE_MS after it settled.
 */
const SHARE_MS = 1_000;
const SHARED_LIMIT = 100;
const shared = new Map<string, { settledAt: number | null; load: Promise<FactLoad> }>();

function sharedBreakdowns(siteId: string, p: Period, filters: Filters): Promise<FactLoad> {
  const t = performance.now();
  for (const [k, v] of shared) if (v.settledAt !== null && t - v.settledAt > SHARE_MS) shared.delete(k);
  const key = JSON.stringify([siteId, p.start, p.end, allActiveFilters(filters)]);
  const hit = shared.get(key);
  if (hit) return hit.load;
  const entry: { settledAt: number | null; load: Promise<FactLoad> } = {
    settledAt: null,
    load: factLoad(siteId, p, filters, { series: false, breakdowns: [...DIMENSIONS], limit: SHARED_LIMIT, now: 0 }),
  };
  shared.set(key, entry);
  entry.load.then(
    () => (entry.settledAt = performance.now()),
    () => shared.delete(key),
  );
  return entry.load;
}

/** `offset` skips that many ranked rows (the stats API's pages). */
export async function factBreakdown(
  siteId: string,
  p: Period,
  filters: Filters,
  dimension: Dimension,
  limit: number,
  offset = 0,
): Promise<BreakdownRow[]> {
  // Exports and later pages ask for more rows than the shared pass keeps: their own pass.
  if (limit + offset > SHARED_LIMIT) {
    const rows =
      (await factLoad(siteId, p, filters, { series: false, breakdowns: [dimension], limit: limit + offset, now: 0 }))
        .breakdowns[dimension] ?? [];
    return rows.slice(offset);
  }
  return ((await sharedBreakdowns(siteId, p, filters)).breakdowns[dimension] ?? []).slice(offset, offset + limit);
}
