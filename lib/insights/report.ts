import { z } from 'zod';
import { pool } from '../db/client';
import { EddyError } from '../errors';
import { bounded } from '../analytics/event-engine';
import { activeFilters, eventFilterOf, filtersSchema, isOwnEventDimension } from '../analytics/dimensions';
import { eventReading, NO_REFERRER, sqlText, visitReading } from '../analytics/dimension-registry';
import { rangeQuerySchema, resolveRange, type ResolvedRange } from '../analytics/range';
import { rollupSeries, segmentPredicate, segmentsFor } from '../analytics/rollup-engine';
import { VisitorUnion } from '../analytics/sketches';
import { IMPORTED_PARTITION } from '../exports/stream';
import { describeMatcher } from '../goals/definition';
import type { FunnelScope } from '../funnels/definition';
import { AUTOMATIC_EVENTS, INSIGHT_KINDS, type InsightKind } from './kinds';

// The dashboard's panels for what visitors do (issue 14): custom events, property values,
// outbound links, downloads, 404s, engagement per page — from event_rollups (the insights job);
// goals — from goal_conversions joined with the visits for breakdowns; funnels — from
// funnel_attempts (the funnels job). The caller resolved the site through the access layer.

export interface InsightsSite {
  id: string;
  timezone: string;
}

export const GOAL_BREAKDOWNS = ['channel', 'referrer', 'country', 'device'] as const;

export const insightsQuerySchema = rangeQuerySchema
  .extend({
    kind: z.enum([...INSIGHT_KINDS, 'goals', 'goal_breakdown', 'funnels']),
    limit: z.coerce.number().int().min(1).max(1000).default(10),
    /** `prop`: the event whose properties to list; `goal_breakdown`: the goal. */
    event: z.string().min(1).max(120).optional(),
    /** `prop`: only this property key. */
    key: z.string().min(1).max(64).optional(),
    /** Case-insensitive substring of the value (the panels' search box). */
    search: z.string().min(1).max(200).optional(),
    goal: z.uuid().optional(),
    by: z.enum(GOAL_BREAKDOWNS).default('channel'),
  })
  .extend(filtersSchema.shape);
export type InsightsQuery = z.infer<typeof insightsQuerySchema>;

export interface InsightRow {
  value: string;
  /** `prop` rows: the property key (value is the property's value); `404` rows: the referrers. */
  key?: string;
  count: number;
  visitors: number;
  /** Share of all visitors in the range (custom events), 0..1. */
  conversionRate?: number | null;
  avgVisibleMs?: number | null;
  avgScroll?: number | null;
  /** Some of the count comes from an import (Plausible's daily aggregates): the panel tags it. */
  imported?: boolean;
}

export interface GoalRow {
  id: string;
  name: string;
  description: string;
  conversions: number;
  converters: number;
  conversionRate: number | null;
}

export interface GoalBreakdownRow {
  value: string;
  visitors: number;
  converters: number;
  conversionRate: number | null;
}

export interface FunnelReport {
  id: string;
  name: string;
  scope: FunnelScope;
  windowMinutes: number;
  steps: {
    label: string;
    visitors: number;
    dropOff: number;
    conversion: number | null;
    fromPrevious: number | null;
    medianMsFromStart: number | null;
  }[];
}

export type InsightsResult =
  | { kind: InsightKind; range: { from: string; to: string }; totalVisitors: number; rows: InsightRow[] }
  | { kind: 'goals'; range: { from: string; to: string }; totalVisitors: number; goals: GoalRow[] }
  | { kind: 'goal_breakdown'; range: { from: string; to: string }; goal: string; by: string; rows: GoalBreakdownRow[] }
  | { kind: 'funnels'; range: { from: string; to: string }; funnels: FunnelReport[] };

function rangeOf(site: InsightsSite, q: InsightsQuery, now: number): ResolvedRange {
  try {
    return resolveRange(q, site.timezone, now);
  } catch (e) {
    throw new EddyError('bad_request', `range: ${(e as Error).message}`);
  }
}

const rate = (n: number, d: number) => (d > 0 ? Math.min(1, n / d) : null);

export async function siteInsights(site: InsightsSite, q: InsightsQuery, now = Date.now()): Promise<InsightsResult> {
  const r = rangeOf(site, q, now);
  const range = { from: r.from, to: r.to };
  const seg = segment(q, r);
  if (q.kind === 'funnels') return { kind: 'funnels', range, funnels: await funnelReports(site, r, seg) };
  if (q.kind === 'goal_breakdown') {
    if (!q.goal) throw new EddyError('bad_request', 'goal: required for a goal breakdown');
    return {
      kind: 'goal_breakdown',
      range,
      goal: q.goal,
      by: q.by,
      rows: await goalBreakdown(site, r, q.goal, q.by, q.limit, seg),
    };
  }
  const totalVisitors = seg
    ? await segmentSize(site, seg)
    : (await rollupSeries(site.id, r, site.timezone, now)).summary.visitors;
  if (q.kind === 'goals')
    return { kind: 'goals', range, totalVisitors, goals: await goalRows(site, r, totalVisitors, seg) };
  const kq = { ...q, kind: q.kind };
  return {
    kind: q.kind,
    range,
    totalVisitors,
    rows: seg ? await filteredKindRows(site, kq, totalVisitors, seg) : await kindRows(site, r, kq, totalVisitors),
  };
}

async function kindRows(
  site: InsightsSite,
  r: ResolvedRange,
  q: InsightsQuery & { kind: InsightKind },
  totalVisitors: number,
): Promise<InsightRow[]> {
  // Totals over the range, not a series: cover it as one span, so whole days read day rows even
  // when the range's chart interval is hours — imported days (Plausible) exist only as day rows.
  const where = segmentPredicate(
    segmentsFor({ ...r, points: [{ start: r.start, end: r.end, label: r.label }] }, site.timezone),
    3,
  );
  const params: unknown[] = [site.id, q.kind, ...where.params];
  const extra: string[] = [];
  if (q.kind === 'prop') {
    if (!q.event) throw new EddyError('bad_request', 'event: required for property values');
    params.push(`${q.event}\u001f${q.key ? `${q.key}\u001f` : ''}`);
    // starts_with, not LIKE: an event name may contain % or _.
    extra.push(`starts_with(value, $${params.length})`);
  }
  params.push(IMPORTED_PARTITION);
  const sums = await pool().query<{
    value: string;
    count: number;
    vis: number;
    scroll: number;
    samples: number;
    imported: boolean;
  }>(
    `SELECT value, sum(count)::float8 AS count, sum(sum_visible_ms)::float8 AS vis, sum(sum_scroll)::float8 AS scroll, sum(scroll_samples)::float8 AS samples,
            bool_or(source_partition = $${params.length}) AS imported
       FROM event_rollups WHERE site_id = $1 AND kind = $2 AND ${where.sql}${extra.map((e) => ` AND ${e}`).join('')}
      GROUP BY value`,
    params,
  );
  const needle = q.search?.toLowerCase();
  const display = (v: string) =>
    q.kind === 'prop' ? v.split('\u001f').slice(2).join('\u001f') : v.replace('\u001f', ' ');
  const top = sums.rows
    .filter(
      (x) =>
        x.count > 0 &&
        (!needle ||
          display(x.value).toLowerCase().includes(needle) ||
          (q.kind === 'prop' && x.value.split('\u001f')[1]!.toLowerCase().includes(needle))),
    )
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, q.limit);
  const unions = await sketches(
    site.id,
    q.kind,
    top.map((t) => t.value),
    where.sql,
    where.params,
  );
  return top.map((t) => {
    const visitors = unions.get(t.value)?.estimate() ?? 0;
    const row: InsightRow = { value: t.value, count: t.count, visitors };
    if (t.imported) row.imported = true;
    if (q.kind === 'prop') {
      const [, key, ...value] = t.value.split('\u001f');
      row.key = key;
      row.value = value.join('\u001f');
    }
    if (q.kind === '404_referrer') {
      const [path, referrer] = t.value.split('\u001f') as [string, string | undefined];
      row.value = path;
      row.key = referrer ?? NO_REFERRER;
    }
    if (q.kind === 'event') row.conversionRate = rate(visitors, totalVisitors);
    if (q.kind === 'engagement') {
      row.avgVisibleMs = visitors > 0 ? t.vis / visitors : null;
      row.avgScroll = t.samples > 0 ? t.scroll / t.samples : null;
    }
    return row;
  });
}

async function sketches(
  siteId: string,
  kind: string,
  values: string[],
  whereSql: string,
  whereParams: unknown[],
): Promise<Map<string, VisitorUnion>> {
  const out = new Map<string, VisitorUnion>();
  if (values.length === 0) return out;
  // Same predicate text, parameters shifted by one ($3 = the values).
  const shifted = whereSql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + 1}`);
  const rows = await pool().query<{ value: string; visitors: unknown }>(
    `SELECT value, visitors FROM event_rollups WHERE site_id = $1 AND kind = $2 AND value = ANY($3) AND visitors IS NOT NULL AND ${shifted}`,
    [siteId, kind, values, ...whereParams],
  );
  for (const row of rows.rows) {
    let u = out.get(row.value);
    if (!u) out.set(row.value, (u = new VisitorUnion(12)));
    u.add(row.visitors);
  }
  return out;
}

async function goalRows(
  site: InsightsSite,
  r: ResolvedRange,
  totalVisitors: number,
  seg: Segment | null,
): Promise<GoalRow[]> {
  const goals = await pool().query<{
    id: string;
    name: string;
    kind: string;
    event_name: string | null;
    prop_key: string | null;
    prop_value: string | null;
    path_pattern: string | null;
  }>(
    'SELECT id, name, kind, event_name, prop_key, prop_value, path_pattern FROM goals WHERE site_id = $1 ORDER BY created_at, id',
    [site.id],
  );
  const countSql = `SELECT goal_id, count(*)::int AS conversions, count(DISTINCT visitor_id)::int AS converters
       FROM goal_conversions WHERE site_id = $1 AND ts >= $2 AND ts < $3 GROUP BY goal_id`;
  const counts = seg
    ? await bounded<{ goal_id: string; conversions: number; converters: number }>(
        site.id,
        `WITH seg AS (${seg.sql}) ${countSql.replace('WHERE site_id = $1', 'WHERE site_id = $1 AND visitor_id IN (SELECT visitor_id FROM seg)')}`,
        withSite(site, seg),
      )
    : (
        await pool().query<{ goal_id: string; conversions: number; converters: number }>(countSql, [
          site.id,
          new Date(r.start),
          new Date(r.end),
        ])
      ).rows;
  const byGoal = new Map(counts.map((c) => [c.goal_id, c]));
  return goals.rows.map((g) => {
    const c = byGoal.get(g.id);
    const converters = c?.converters ?? 0;
    // Exact converters over the estimated visitors (a sketch, ±0.8 %): never shown above 100 %.
    return {
      id: g.id,
      name: g.name,
      description: describeMatcher({
        kind: g.kind,
        eventName: g.event_name,
        propKey: g.prop_key,
        propValue: g.prop_value,
        pathPattern: g.path_pattern,
      }),
      conversions: c?.conversions ?? 0,
      converters,
      conversionRate: rate(converters, Math.max(totalVisitors, converters)),
    };
  });
}

/**
 * Conversion rate per source, country or device: of the visitors whose visits in the range had
 * that value, those who converted during such a visit. A visit's source is its landing's (the
 * sessions job's rule), so a conversion deep in a visit is credited to how the visit began.
 */
async function goalBreakdown(
  site: InsightsSite,
  r: ResolvedRange,
  goalId: string,
  by: (typeof GOAL_BREAKDOWNS)[number],
  limit: number,
  seg: Segment | null,
): Promise<GoalBreakdownRow[]> {
  const goal = await pool().query('SELECT 1 FROM goals WHERE id = $1 AND site_id = $2', [goalId, site.id]);
  if (goal.rowCount === 0) throw new EddyError('not_found', 'Goal not found');
  const rows = await bounded<{ value: string; visitors: number; converters: number }>(
    site.id,
    `WITH ${seg ? `seg AS (${renumber(seg.sql, 5)}),` : ''} v AS (
       SELECT s.visitor_id, s.started_at, s.ended_at, ${visitReading(by).sql('s')} AS value
         FROM sessions s WHERE s.site_id = $1 AND s.started_at >= $2 AND s.started_at < $3${seg ? ' AND s.visitor_id IN (SELECT visitor_id FROM seg)' : ''}
     ),
     conv AS (
       SELECT DISTINCT v.value, v.visitor_id FROM v
         JOIN goal_conversions c ON c.site_id = $1 AND c.goal_id = $4 AND c.visitor_id = v.visitor_id AND c.ts >= v.started_at AND c.ts <= v.ended_at
     )
     SELECT v.value, count(DISTINCT v.visitor_id)::int AS visitors, (SELECT count(*) FROM conv WHERE conv.value = v.value)::int AS converters
       FROM v GROUP BY v.value
      ORDER BY converters DESC, visitors DESC, v.value
      LIMIT $5`,
    [site.id, new Date(r.start), new Date(r.end), goalId, limit, ...(seg ? seg.params.slice(3) : [])],
  );
  return rows.map((x) => ({
    value: x.value,
    visitors: x.visitors,
    converters: x.converters,
    conversionRate: rate(x.converters, x.visitors),
  }));
}

async function funnelReports(site: InsightsSite, r: ResolvedRange, seg: Segment | null): Promise<FunnelReport[]> {
  const funnels = await pool().query<{
    id: string;
    name: string;
    steps: {
      label?: string;
      kind: string;
      eventName?: string;
      propKey?: string;
      propValue?: string;
      pathPattern?: string;
    }[];
    scope: FunnelScope;
    window_minutes: number;
  }>('SELECT id, name, steps, scope, window_minutes FROM funnels WHERE site_id = $1 ORDER BY created_at, id', [
    site.id,
  ]);
  const out: FunnelReport[] = [];
  for (const f of funnels.rows) {
    const sql = `SELECT s.i, count(DISTINCT a.visitor_id)::int AS visitors,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY a.step_ms[s.i]) AS median_ms
         FROM generate_series(1, $5::int) AS s(i)
         LEFT JOIN funnel_attempts a ON a.funnel_id = $4 AND a.site_id = $1 AND a.started_at >= $2 AND a.started_at < $3 AND a.steps_reached >= s.i
              ${seg ? `AND a.visitor_id IN (SELECT visitor_id FROM seg)` : ''}
        GROUP BY s.i ORDER BY s.i`;
    const params = [site.id, new Date(r.start), new Date(r.end), f.id, f.steps.length];
    // The segment's parameters follow the query's own ($6…): its SQL is renumbered to match.
    const stats = {
      rows: seg
        ? await bounded<{ i: number; visitors: number; median_ms: number | null }>(
            site.id,
            `WITH seg AS (${renumber(seg.sql, 5)}) ${sql}`,
            [...params, ...seg.params.slice(3)],
          )
        : (await pool().query<{ i: number; visitors: number; median_ms: number | null }>(sql, params)).rows,
    };
    const first = stats.rows[0]?.visitors ?? 0;
    out.push({
      id: f.id,
      name: f.name,
      scope: f.scope,
      windowMinutes: f.window_minutes,
      steps: f.steps.map((s, i) => {
        const row = stats.rows[i];
        const visitors = row?.visitors ?? 0;
        const prev = i === 0 ? null : (stats.rows[i - 1]?.visitors ?? 0);
        return {
          label: s.label || describeMatcher(s),
          visitors,
          dropOff: prev === null ? 0 : Math.max(0, prev - visitors),
          conversion: rate(visitors, first),
          fromPrevious: prev === null ? null : rate(visitors, prev),
          medianMsFromStart:
            i === 0 ? 0 : row?.median_ms === null || row?.median_ms === undefined ? null : Math.round(row.median_ms),
        };
      }),
    });
  }
  return out;
}

// ---- filters: the dashboard's row filters as a segment of visitors ---------------------------------

/**
 * With row filters the panels count the *visitors* the filters select: those with an event in the
 * range matching each event filter (country, device, page viewed, source…), and a visit starting
 * there for entry/exit page. Then everything those visitors did in the range (their custom events,
 * conversions, funnel attempts). Read from the archive and the visits, under the per-site gate.
 */
interface Segment {
  /** SELECT visitor_id … with $1 site, $2 start, $3 end, then the filter values from $4. */
  sql: string;
  params: unknown[];
}

function segment(q: InsightsQuery, r: ResolvedRange): Segment | null {
  const active = activeFilters(q);
  const eventFilter = eventFilterOf(q);
  if (active.length === 0 && eventFilter === null) return null;
  const params: unknown[] = [null, new Date(r.start), new Date(r.end)];
  const add = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const parts = active.map(([d, v]) => {
    const ph = add(v);
    // Entry/exit page and the sources are a visit's (dimensions.ts): the visitors of visits with it.
    if (!isOwnEventDimension(d)) {
      return `SELECT DISTINCT visitor_id FROM sessions WHERE site_id = $1 AND started_at >= $2 AND started_at < $3 AND ${visitReading(d).column} = ${ph}`;
    }
    return `SELECT DISTINCT visitor_id FROM events WHERE site_id = $1 AND ts >= $2 AND ts < $3 AND ${eventReading(d).sql('record')} = ${ph}`;
  });
  // custom_event / event_prop: the visitors who sent such an event in the range (properties compare as text, as goals do).
  if (eventFilter) {
    const preds = [
      ...(eventFilter.name !== null ? [`name = ${add(eventFilter.name)}`] : []),
      ...(eventFilter.prop
        ? [`record->'props'->>${add(eventFilter.prop.key)}::text = ${add(eventFilter.prop.value)}`]
        : []),
    ];
    parts.push(
      `SELECT DISTINCT visitor_id FROM events WHERE site_id = $1 AND ts >= $2 AND ts < $3 AND record->'request' IS NULL AND ${preds.join(' AND ')}`,
    );
  }
  return { sql: parts.join(' INTERSECT '), params };
}

/** Shifts a segment's filter placeholders ($4…) to follow `base` parameters of another query; $1–$3 stay. */
function renumber(sql: string, base: number): string {
  return sql.replace(/\$(\d+)/g, (m, n: string) => (Number(n) <= 3 ? m : `$${Number(n) - 3 + base}`));
}

const withSite = (site: InsightsSite, seg: Segment) => [site.id, ...seg.params.slice(1)];

async function segmentSize(site: InsightsSite, seg: Segment): Promise<number> {
  const rows = await bounded<{ n: number }>(
    site.id,
    `SELECT count(*)::int AS n FROM (${seg.sql}) seg`,
    withSite(site, seg),
  );
  return rows[0]?.n ?? 0;
}

async function filteredKindRows(
  site: InsightsSite,
  q: InsightsQuery & { kind: InsightKind },
  totalVisitors: number,
  seg: Segment,
): Promise<InsightRow[]> {
  const params = withSite(site, seg);
  const add = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  let select: string;
  let where = '';
  switch (q.kind) {
    case 'event':
      select = 'e.name AS value, NULL AS key';
      where = `e.name <> ALL(${add([...AUTOMATIC_EVENTS])})`;
      break;
    case 'prop':
      if (!q.event) throw new EddyError('bad_request', 'event: required for property values');
      select = 'p.value AS value, p.key AS key';
      where = `e.name = ${add(q.event)}${q.key ? ` AND p.key = ${add(q.key)}` : ''}`;
      break;
    case 'outbound':
    case 'download':
      select = "coalesce(e.record->'props'->>'url', '(unknown)') AS value, NULL AS key";
      where = `e.name = ${add(q.kind)}`;
      break;
    case '404':
    case '404_referrer':
      select = `coalesce(e.record->'props'->>'path', e.record->>'path', '/') AS value, ${q.kind === '404' ? 'NULL' : `coalesce(e.record->>'referrerHost', ${sqlText(NO_REFERRER)})`} AS key`;
      where = "e.name = '404'";
      break;
    case 'engagement':
      select = "coalesce(e.record->>'path', '/') AS value, NULL AS key";
      where = "e.name = 'engagement'";
      break;
  }
  const rows = await bounded<{
    value: string;
    key: string | null;
    count: number;
    visitors: number;
    vis: number;
    scroll: number;
    samples: number;
  }>(
    site.id,
    `WITH seg AS (${seg.sql})
     SELECT ${select}, count(*)::float8 AS count, count(DISTINCT e.visitor_id)::float8 AS visitors,
            coalesce(sum((e.record->'engagement'->>'visibleMs')::float8), 0) AS vis,
            coalesce(sum((e.record->'engagement'->>'scrollDepth')::float8), 0) AS scroll,
            count(e.record->'engagement')::float8 AS samples
       FROM events e${q.kind === 'prop' ? " CROSS JOIN LATERAL jsonb_each_text(coalesce(e.record->'props', '{}'::jsonb)) AS p(key, value)" : ''}
      WHERE e.site_id = $1 AND e.ts >= $2 AND e.ts < $3 AND e.visitor_id IN (SELECT visitor_id FROM seg) AND ${where}
      GROUP BY 1, 2`,
    params,
  );
  const needle = q.search?.toLowerCase();
  return rows
    .filter((x) => !needle || x.value.toLowerCase().includes(needle) || (x.key ?? '').toLowerCase().includes(needle))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, q.limit)
    .map((x) => {
      const row: InsightRow = { value: x.value, count: x.count, visitors: x.visitors };
      if (x.key !== null) row.key = x.key;
      if (q.kind === 'event') row.conversionRate = rate(x.visitors, totalVisitors);
      if (q.kind === 'engagement') {
        row.avgVisibleMs = x.visitors > 0 ? x.vis / x.visitors : null;
        row.avgScroll = x.samples > 0 ? x.scroll / x.samples : null;
      }
      return row;
    });
}
