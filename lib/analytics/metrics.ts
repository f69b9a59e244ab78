import { isEventDimension, isSessionDimension, type Dimension } from './dimensions';

// The dashboard's numbers, whichever engine computed them. Pure.

export interface Metrics {
  visitors: number;
  pageviews: number;
  sessions: number;
  /** Share of sessions that bounced, 0..1; null without sessions. */
  bounceRate: number | null;
  avgDurationMs: number | null;
  pagesPerSession: number | null;
}

export interface SeriesPoint {
  start: number;
  label: string;
  visitors: number;
  pageviews: number;
  sessions: number;
  /** The point starts after "now": nothing can be there yet (the chart stops before it). */
  future: boolean;
}

export interface BreakdownRow {
  value: string;
  /** Null where the dimension has no such measure (e.g. visitors of entry pages). */
  visitors: number | null;
  pageviews: number | null;
  sessions: number | null;
  bounceRate: number | null;
  avgDurationMs: number | null;
}

export interface Sums {
  pageviews: number;
  sessions: number;
  bounces: number;
  durationMs: number;
  /** Pageviews of the visits counted in `sessions` (wherever those pageviews fell). */
  visitPageviews: number;
}

export function metricsFrom(visitors: number, s: Sums): Metrics {
  return {
    visitors,
    pageviews: s.pageviews,
    sessions: s.sessions,
    bounceRate: s.sessions > 0 ? Math.min(1, s.bounces / s.sessions) : null,
    avgDurationMs: s.sessions > 0 ? s.durationMs / s.sessions : null,
    // The visits' own pageviews ÷ the visits: one set of visits for bounce, duration and pages, so a
    // visit across midnight counts all its pages on the day it started (dividing the range's
    // pageviews by its visits was off for every visit crossing the range's edge).
    pagesPerSession: s.sessions > 0 ? s.visitPageviews / s.sessions : null,
  };
}

/** The sums as the filtered engines' SQL names them (event-engine.ts, fact-engine.ts). */
export interface SqlSums {
  visitors: number;
  pageviews: number;
  sessions: number;
  bounces: number;
  duration_ms: number;
  visit_pageviews: number;
}

/** The totals of a range; no row: nothing matched. */
export function metricsOfSums(total: SqlSums | undefined): Metrics {
  return metricsFrom(total?.visitors ?? 0, {
    pageviews: total?.pageviews ?? 0,
    sessions: total?.sessions ?? 0,
    bounces: total?.bounces ?? 0,
    durationMs: total?.duration_ms ?? 0,
    visitPageviews: total?.visit_pageviews ?? 0,
  });
}

/** A breakdown row: the measures its dimension has (event: visitors and pageviews; visit: the rest), the others null. */
export function breakdownRowOf(d: Dimension, value: string, r: Omit<SqlSums, 'visit_pageviews'>): BreakdownRow {
  const event = isEventDimension(d);
  const session = isSessionDimension(d);
  // Breakdown rows show no pages per visit.
  const m = metricsFrom(0, {
    pageviews: r.pageviews,
    sessions: r.sessions,
    bounces: r.bounces,
    durationMs: r.duration_ms,
    visitPageviews: 0,
  });
  return {
    value,
    visitors: event ? r.visitors : null,
    pageviews: event ? r.pageviews : null,
    sessions: session ? r.sessions : null,
    bounceRate: session ? m.bounceRate : null,
    avgDurationMs: session ? m.avgDurationMs : null,
  };
}

/** Relative change from `before` to `now` (0.25 = +25 %); null when there is nothing to compare with. */
export function change(now: number | null, before: number | null): number | null {
  if (now === null || before === null || before === 0) return null;
  return (now - before) / before;
}
