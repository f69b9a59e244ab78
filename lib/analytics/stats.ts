import { z } from 'zod';
import { EddyError } from '../errors';
import { allActiveFilters, DIMENSIONS, filtersSchema, type Dimension, type Filters } from './dimensions';
import { factBreakdown, factSeries } from './fact-engine';
import type { BreakdownRow, Metrics, SeriesPoint } from './metrics';
import { rangeQuerySchema, resolveRange, type RangeKey, type ResolvedRange } from './range';
import { rollupBreakdown, rollupSeries } from './rollup-engine';

// The dashboard's history queries for one site. The caller has already resolved the site
// through the data-access layer (membership or share link); nothing here takes a site id
// from the request. Unfiltered views read the rollups; filtered views read the facts the workers
// write per event and per visit (fact-engine.ts; the raw-events engine, event-engine.ts, is kept as
// the reference the tests and the benchmark compare with).

export interface StatsSite {
  id: string;
  timezone: string;
  sessionGapMinutes: number;
}

export const statsQuerySchema = rangeQuerySchema.extend(filtersSchema.shape);
export type StatsQuery = z.infer<typeof statsQuerySchema>;

export const breakdownQuerySchema = statsQuerySchema.extend({
  dimension: z.enum(DIMENSIONS),
  limit: z.coerce.number().int().min(1).max(100).default(10),
});

export const MAX_EXPORT_ROWS = 1000;

export interface StatsResult {
  range: {
    key: RangeKey;
    label: string;
    from: string;
    to: string;
    timezone: string;
    interval: 'hour' | 'day';
    /** The range ended before now: nothing can arrive in it any more (the empty state says so). */
    ended: boolean;
  };
  previousRange: { from: string; to: string } | null;
  filters: Filters;
  source: 'rollups' | 'events';
  summary: Metrics;
  previous: Metrics | null;
  series: SeriesPoint[];
  previousSeries: SeriesPoint[] | null;
}

function rangeOf(site: StatsSite, q: StatsQuery, now: number): ResolvedRange {
  try {
    return resolveRange(q, site.timezone, now);
  } catch (e) {
    throw new EddyError('bad_request', `range: ${(e as Error).message}`);
  }
}

function filtersOf(q: StatsQuery): Filters {
  return Object.fromEntries(allActiveFilters(q));
}

export async function siteStats(site: StatsSite, q: StatsQuery, now = Date.now()): Promise<StatsResult> {
  const r = rangeOf(site, q, now);
  const filters = filtersOf(q);
  const filtered = Object.keys(filters).length > 0;
  const run = (p: typeof r.previous) =>
    filtered ? factSeries(site.id, p, filters, now) : rollupSeries(site.id, p, site.timezone, now);
  const [current, previous] = await Promise.all([
    run(r),
    q.compare === 'previous' ? run(r.previous) : Promise.resolve(null),
  ]);
  return {
    range: {
      key: r.key,
      label: r.label,
      from: r.from,
      to: r.to,
      timezone: r.timezone,
      interval: r.interval,
      ended: r.end <= now,
    },
    previousRange: previous ? { from: r.previous.from, to: r.previous.to } : null,
    filters,
    source: filtered ? 'events' : 'rollups',
    summary: current.summary,
    previous: previous?.summary ?? null,
    series: current.series,
    previousSeries: previous?.series ?? null,
  };
}

export interface BreakdownResult {
  dimension: Dimension;
  range: { from: string; to: string };
  source: 'rollups' | 'events';
  rows: BreakdownRow[];
}

/** `offset` skips that many ranked rows (the stats API's pages; the dashboard shows the first). */
export async function siteBreakdown(
  site: StatsSite,
  q: StatsQuery,
  dimension: Dimension,
  limit: number,
  now = Date.now(),
  offset = 0,
): Promise<BreakdownResult> {
  const r = rangeOf(site, q, now);
  const filters = filtersOf(q);
  const filtered = Object.keys(filters).length > 0;
  const rows = filtered
    ? await factBreakdown(site.id, r, filters, dimension, limit, offset)
    : await rollupBreakdown(site.id, r, site.timezone, dimension, limit, now, { offset });
  return { dimension, range: { from: r.from, to: r.to }, source: filtered ? 'events' : 'rollups', rows };
}
