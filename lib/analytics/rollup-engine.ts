import { pool } from '../db/client';
import {
  breakdownSums,
  dayCacheBreakdownSums,
  dayCacheValueSketches,
  valueSketches,
  type SumRow,
} from '../rollups/breakdowns';
import { dayCacheTotals, rollupTotals, type TotalsRow } from '../rollups/totals';
import type { BucketPredicate } from '../rollups/bucket-predicate';
import { IMPORTED_PARTITION } from '../exports/stream';
import { coalesceSegments, coverRange, type Segment } from './cover';
import { BREAKDOWN_PRECISION, freshDays, scheduleCompaction, SETTLED_AFTER_MS } from './day-cache';
import { isEventDimension, isSessionDimension, isSourceDimension, rankMeasure, type Dimension } from './dimensions';
import { metricsFrom, type BreakdownRow, type Metrics, type SeriesPoint, type Sums } from './metrics';
import type { Period, Point } from './range';
import { VisitorUnion } from './sketches';
import { addDays, zonedMidnight } from './time-zone';

// Unfiltered dashboard queries, answered from the rollups the workers keep: sums over source
// partitions and covering buckets, visitor sketches merged (never added). Settled days come
// from the compacted copy (day-cache.ts) when it is current, everything else from `rollups`.
// The statements are the table's owner's (lib/rollups/).

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

/**
 * The imported whole days of a period whose chart points are hours (null when its own cover
 * already reads whole days from day rows): the days of its span, restricted to the imported
 * partition's day rows, numbered from `$first`. Days imported from Plausible exist only as day
 * rows (lib/rollups/imported-days.ts), so an hourly range — "yesterday" — would read 0 visitors of
 * imported history; every other partition keeps its hour rows, which are right in any zone (a
 * live day row is the site's day in the zone it had when it was written: after a change of time
 * zone, "today" read the day row of another day — tests/integration/live-peaks.test.ts).
 */
function importedDays(p: Period, tz: string, first: number): BucketPredicate | null {
  const own = segmentsFor(p, tz);
  if (own.some((s) => s.granularity === 'day')) return null;
  const days = segmentsFor(wholeSpan(p), tz).filter((s) => s.granularity === 'day');
  if (days.length === 0) return null;
  const params: (string | number | Date)[] = [];
  const terms = days.map((d) => {
    params.push(IMPORTED_PARTITION, new Date(d.start), new Date(d.end));
    const i = first + params.length - 3;
    return `(granularity = 'day' AND source_partition = $${i} AND bucket >= $${i + 1} AND bucket < $${i + 2})`;
  });
  return { sql: `(${terms.join(' OR ')})`, params };
}

interface Plan {
  /** Whole local days read from the compacted copy. */
  cachedDays: number[];
  /** Everything else, read from `rollups`. */
  segments: Segment[];
}

/**
 * Splits a period's cover: settled whole days with a current compacted copy, and the rest.
 * Settled days without one are queued for compaction (the next load is faster).
 */
export async function planPeriod(
  siteId: string,
  p: Period,
  tz: string,
  now: number,
  opts: { useCache?: boolean } = {},
): Promise<Plan> {
  const segments = segmentsFor(p, tz);
  if (opts.useCache === false) return { cachedDays: [], segments };
  const midnights = localMidnights(p, tz);
  const settled: number[] = [];
  for (const s of segments) {
    if (s.granularity !== 'day') continue;
    for (let i = 0; i < midnights.length - 1; i++) {
      const m = midnights[i]!;
      if (m >= s.start && m < s.end && midnights[i + 1]! + SETTLED_AFTER_MS <= now) settled.push(m);
    }
  }
  const { fresh, stale } = await freshDays(siteId, settled);
  if (stale.length) scheduleCompaction(siteId, stale);
  if (fresh.size === 0) return { cachedDays: [], segments };
  const rest: Segment[] = [];
  for (const s of segments) {
    if (s.granularity !== 'day') {
      rest.push(s);
      continue;
    }
    // Split the day segment around cached days.
    const inside = midnights.filter((m) => m >= s.start && m <= s.end);
    for (let i = 0; i < inside.length - 1; i++)
      if (!fresh.has(inside[i]!)) rest.push({ granularity: 'day', start: inside[i]!, end: inside[i + 1]! });
  }
  return { cachedDays: [...fresh].sort((a, b) => a - b), segments: coalesceSegments(rest) };
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

const isoDays = (days: number[]) => days.map((d) => new Date(d).toISOString());

async function totalsRows(siteId: string, plan: Plan): Promise<TotalsRow[]> {
  const where = segmentPredicate(plan.segments, 2);
  const [fromRollups, fromCache] = await Promise.all([
    plan.segments.length ? rollupTotals(pool(), siteId, where) : [],
    plan.cachedDays.length ? dayCacheTotals(pool(), siteId, isoDays(plan.cachedDays)) : [],
  ]);
  return [...fromRollups, ...fromCache];
}

const emptySums = (): Sums => ({ pageviews: 0, sessions: 0, bounces: 0, durationMs: 0, visitPageviews: 0 });

export async function rollupSeries(
  siteId: string,
  p: Period,
  tz: string,
  now: number,
  opts: { useCache?: boolean } = {},
): Promise<{ summary: Metrics; series: SeriesPoint[] }> {
  // Imported days have day rows only: an hourly range adds them to its totals (not to its points).
  const imported = importedDays(p, tz, 2);
  const [rows, importedRows] = await Promise.all([
    totalsRows(siteId, await planPeriod(siteId, p, tz, now, opts)),
    imported ? rollupTotals(pool(), siteId, imported) : [],
  ]);
  const perPoint = p.points.map(() => ({ union: new VisitorUnion(), sums: emptySums() }));
  for (const r of rows) {
    const i = pointIndex(p.points, r.bucket.getTime());
    if (i < 0) continue;
    const acc = perPoint[i]!;
    acc.sums.pageviews += r.pageviews;
    acc.sums.sessions += r.sessions;
    acc.sums.bounces += r.bounces;
    acc.sums.durationMs += r.duration_ms;
    acc.sums.visitPageviews += r.visit_pageviews;
    for (const s of r.sketches ?? []) acc.union.add(s);
  }
  const total = new VisitorUnion();
  const sums = emptySums();
  const series = p.points.map((pt, i) => {
    const acc = perPoint[i]!;
    total.merge(acc.union);
    sums.pageviews += acc.sums.pageviews;
    sums.sessions += acc.sums.sessions;
    sums.bounces += acc.sums.bounces;
    sums.durationMs += acc.sums.durationMs;
    sums.visitPageviews += acc.sums.visitPageviews;
    return {
      start: pt.start,
      label: pt.label,
      visitors: acc.union.estimate(),
      pageviews: acc.sums.pageviews,
      sessions: acc.sums.sessions,
      future: pt.start > now,
    };
  });
  for (const r of importedRows) {
    sums.pageviews += r.pageviews;
    sums.sessions += r.sessions;
    sums.bounces += r.bounces;
    sums.durationMs += r.duration_ms;
    sums.visitPageviews += r.visit_pageviews;
    for (const x of r.sketches ?? []) total.add(x);
  }
  return { summary: metricsFrom(total.estimate(), sums), series };
}

/** The period as one point: its totals and breakdowns need no chart points. */
function wholeSpan(p: Period): Period {
  return { ...p, points: [{ start: p.start, end: p.end, label: '' }] };
}

export async function rollupBreakdown(
  siteId: string,
  p: Period,
  tz: string,
  dimension: Dimension,
  limit: number,
  now = Date.now(),
  opts: { useCache?: boolean; offset?: number } = {},
): Promise<BreakdownRow[]> {
  // The period's own cover (hour rows for an hourly range), with its imported days (importedDays).
  const plan = await planPeriod(siteId, p, tz, now, opts);
  const where = segmentPredicate(plan.segments, 3);
  const days = isoDays(plan.cachedDays);
  const imported = importedDays(p, tz, 3);
  const [a, b, c] = await Promise.all([
    plan.segments.length ? breakdownSums(pool(), siteId, dimension, where) : [],
    days.length ? dayCacheBreakdownSums(pool(), siteId, dimension, days) : [],
    imported ? breakdownSums(pool(), siteId, dimension, imported) : [],
  ]);
  const byValue = new Map<string, SumRow>();
  for (const r of [...a, ...b, ...c]) {
    const x = byValue.get(r.value);
    if (!x) byValue.set(r.value, { ...r });
    else {
      x.pageviews += r.pageviews;
      x.sessions += r.sessions;
      x.bounces += r.bounces;
      x.duration_ms += r.duration_ms;
      x.visit_pageviews += r.visit_pageviews;
    }
  }
  // A source's pageviews are its visits' (dimensions.ts), not its landings.
  if (isSourceDimension(dimension)) for (const r of byValue.values()) r.pageviews = r.visit_pageviews;
  const rank = rankMeasure(dimension);
  // A value with visits but no pageviews is still a row: days imported from an older Plausible
  // export carry visits, not pageviews, per country, device or source.
  const rows = [...byValue.values()]
    .filter((r) => r[rank] > 0 || r.sessions > 0)
    .sort(
      (x, y) => y[rank] - x[rank] || y.sessions - x.sessions || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0),
    )
    .slice(opts.offset ?? 0, (opts.offset ?? 0) + limit);

  const unions = new Map<string, VisitorUnion>();
  if (isEventDimension(dimension) && rows.length) {
    const top = rows.map((r) => r.value);
    const sk = segmentPredicate(plan.segments, 4);
    const importedSk = importedDays(p, tz, 4);
    const [fromRollups, fromCache, fromImported] = await Promise.all([
      plan.segments.length ? valueSketches(pool(), siteId, dimension, top, sk) : [],
      days.length ? dayCacheValueSketches(pool(), siteId, dimension, top, days) : [],
      importedSk ? valueSketches(pool(), siteId, dimension, top, importedSk) : [],
    ]);
    for (const s of [...fromRollups, ...fromCache, ...fromImported]) {
      let u = unions.get(s.value);
      if (!u) unions.set(s.value, (u = new VisitorUnion(BREAKDOWN_PRECISION)));
      u.add(s.visitors);
    }
  }
  return rows.map((r) => {
    // Breakdown rows show no pages per visit.
    const m = metricsFrom(0, {
      pageviews: r.pageviews,
      sessions: r.sessions,
      bounces: r.bounces,
      durationMs: r.duration_ms,
      visitPageviews: 0,
    });
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
