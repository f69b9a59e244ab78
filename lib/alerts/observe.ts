import type pg from 'pg';
import type { HyperLogLogJson } from '../stream';
import { countVisitors } from '../analytics/visitors';
import { topDrivers, type Driver, type Observation } from './evaluate';
import type { Condition } from './rules';

// Measures what a rule's condition is about, from the rollups the workers keep current (the open
// minute is rewritten after every batch, so this sees traffic within a second or two of collect).
// Minute buckets: a window of W minutes is the W most recent buckets, the open one included —
// except for drops, which use complete minutes only (a minute that just began would look like one).
// An unknown country is not a driver worth naming.

const MINUTE = 60_000;
const WEEK = 7 * 24 * 60 * MINUTE;
type Q = Pick<pg.Pool, 'query'>;

/** Sum of pageviews and events per dimension value over [from, to) minute buckets. */
async function sums(q: Q, siteId: string, from: number, to: number, dimensions: string[]): Promise<Map<string, { pageviews: number; events: number }>> {
  const r = await q.query<{ dimension: string; value: string; pageviews: string; events: string }>(
    `SELECT dimension, value, sum(pageviews)::text AS pageviews, sum(events)::text AS events FROM rollups
     WHERE site_id = $1 AND granularity = 'minute' AND dimension = ANY($2) AND bucket >= $3 AND bucket < $4
     GROUP BY dimension, value`,
    [siteId, dimensions, new Date(from), new Date(to)],
  );
  const out = new Map<string, { pageviews: number; events: number }>();
  for (const row of r.rows) out.set(`${row.dimension}\u001f${row.value}`, { pageviews: Number(row.pageviews), events: Number(row.events) });
  return out;
}

const total = (m: Map<string, { pageviews: number; events: number }>) => m.get('\u001f') ?? { pageviews: 0, events: 0 };
function byValue(m: Map<string, { pageviews: number; events: number }>, dimension: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of m) if (k.startsWith(`${dimension}\u001f`)) out.set(k.slice(dimension.length + 1), v.pageviews);
  return out;
}

export async function currentVisitors(q: Q, siteId: string, now: number): Promise<number> {
  const since = Math.floor(now / MINUTE) * MINUTE - 4 * MINUTE;
  const r = await q.query<{ visitors: HyperLogLogJson | null }>(
    `SELECT visitors FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = '' AND bucket >= $2`,
    [siteId, new Date(since)],
  );
  return countVisitors(r.rows.map((x) => x.visitors));
}

/** The observation for one condition (not `sla`: the job measures freshness itself). */
export async function observe(q: Q, siteId: string, c: Exclude<Condition, { type: 'sla' }>, now: number): Promise<Observation> {
  const openMinute = Math.floor(now / MINUTE) * MINUTE;
  switch (c.type) {
    case 'visitors':
      return { value: await currentVisitors(q, siteId, now) };
    case 'custom_event': {
      const m = await sums(q, siteId, openMinute - (c.windowMinutes - 1) * MINUTE, openMinute + MINUTE, ['event']);
      return { value: m.get(`event\u001f${c.event}`)?.events ?? 0 };
    }
    case 'tracking_stopped': {
      const recent = await sums(q, siteId, openMinute - (c.minutes - 1) * MINUTE, openMinute + MINUTE, ['']);
      const day = await sums(q, siteId, openMinute - 24 * 60 * MINUTE, openMinute + MINUTE, ['']);
      return { value: total(recent).events, baseline: (total(day).events * c.minutes) / (24 * 60) };
    }
    case 'traffic': {
      const W = c.windowMinutes * MINUTE;
      const end = c.direction === 'spike' ? openMinute + MINUTE : openMinute;
      const start = end - W;
      const dims = ['', 'page', 'referrer', 'country'];
      const cur = await sums(q, siteId, start, end, dims);
      const base = c.baseline === 'week' ? await sums(q, siteId, start - WEEK, end - WEEK, dims) : await sums(q, siteId, start - c.trailingWindows * W, start, dims);
      const scale = c.baseline === 'week' ? 1 : 1 / c.trailingWindows;
      const dir = c.direction === 'spike' ? 'up' : 'down';
      const drivers: Driver[] = (['page', 'referrer', 'country'] as const).flatMap((d) => topDrivers(byValue(cur, d), byValue(base, d), d, dir, scale).filter((x) => x.value !== '(unknown)').slice(0, 1));
      return { value: total(cur).pageviews, baseline: Math.round(total(base).pageviews * scale * 10) / 10, drivers };
    }
  }
}
