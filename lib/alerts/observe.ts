import { countVisitors } from '../analytics/visitors';
import { topDrivers, type Driver, type Observation } from './evaluate';
import type { Condition } from './rules';
import { MINUTE } from '@/lib/time';
import type { Queryable } from '@/lib/db/client';
import { minuteSums, minuteTrafficSince, minuteVisitorSketches } from '@/lib/rollups/alert-observations';

// Measures what a rule's condition is about, from the rollups the workers keep current (the open
// minute is rewritten after every batch, so this sees traffic within a second or two of collect).
// Minute buckets: a window of W minutes is the W most recent buckets, the open one included —
// except for drops, which use complete minutes only (a minute that just began would look like one).
// An unknown country is not a driver worth naming.

const WEEK = 7 * 24 * 60 * MINUTE;

/** Sum of pageviews and events per dimension value over [from, to) minute buckets. */
async function sums(
  q: Queryable,
  siteId: string,
  from: number,
  to: number,
  dimensions: string[],
): Promise<Map<string, { pageviews: number; events: number }>> {
  const rows = await minuteSums(q, siteId, from, to, dimensions);
  const out = new Map<string, { pageviews: number; events: number }>();
  for (const row of rows)
    out.set(`${row.dimension}\u001f${row.value}`, { pageviews: Number(row.pageviews), events: Number(row.events) });
  return out;
}

const total = (m: Map<string, { pageviews: number; events: number }>) => m.get('\u001f') ?? { pageviews: 0, events: 0 };
function byValue(m: Map<string, { pageviews: number; events: number }>, dimension: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of m) if (k.startsWith(`${dimension}\u001f`)) out.set(k.slice(dimension.length + 1), v.pageviews);
  return out;
}

export async function currentVisitors(q: Queryable, siteId: string, now: number): Promise<number> {
  const since = Math.floor(now / MINUTE) * MINUTE - 4 * MINUTE;
  return countVisitors(await minuteVisitorSketches(q, siteId, since));
}

/** The observation for one condition (not `sla`: the job measures freshness itself). */
export async function observe(
  q: Queryable,
  siteId: string,
  c: Exclude<Condition, { type: 'sla' }>,
  now: number,
): Promise<Observation> {
  const openMinute = Math.floor(now / MINUTE) * MINUTE;
  switch (c.type) {
    case 'visitors':
      return { value: await currentVisitors(q, siteId, now) };
    case 'custom_event': {
      const m = await sums(q, siteId, openMinute - (c.windowMinutes - 1) * MINUTE, openMinute + MINUTE, ['event']);
      return { value: m.get(`event\u001f${c.event}`)?.events ?? 0 };
    }
    case 'tracking_stopped': {
      // Anything the tracker sends counts: a pageview-only site is the common case. The baseline is
      // the usual traffic per window over the trailing 24 h before this window — over the part of
      // it since the site's first traffic, so a site that started an hour ago is judged by its hour.
      //
      // Quiet means nothing for the whole `minutes` up to now, to the millisecond: minute rows
      // only say which minute held the last event, and a window of whole minutes fired as little
      // as minutes − 1 after it (68 s for a 2-minute rule). The archive's (site, ts) index
      // answers whether anything (not a server request) came since; the count shown is then the
      // minute rows' over the minutes that window touches.
      const since = now - c.minutes * MINUTE;
      const recentStart = Math.floor(since / MINUTE) * MINUTE;
      const any = await q.query<{ any: boolean }>(
        "SELECT EXISTS (SELECT 1 FROM events WHERE site_id = $1 AND ts > $2 AND name <> 'request') AS any",
        [siteId, new Date(since)],
      );
      const recent = any.rows[0]?.any ? total(await sums(q, siteId, recentStart, openMinute + MINUTE, [''])) : null;
      const b = await minuteTrafficSince(q, siteId, recentStart - 24 * 60 * MINUTE, recentStart);
      const spanMinutes = b?.first ? Math.max(c.minutes, (recentStart - b.first.getTime()) / MINUTE) : 24 * 60;
      const usual = Number(b?.pageviews ?? 0) + Number(b?.events ?? 0);
      return {
        value: recent ? Math.max(1, recent.pageviews + recent.events) : 0,
        baseline: Math.round(((usual * c.minutes) / spanMinutes) * 10) / 10,
      };
    }
    case 'goal': {
      // Conversions (goal_conversions, written by the insights job in the batch's transaction)
      // per window: the current one against the trailing average or the same window a week earlier.
      const W = c.windowMinutes * MINUTE;
      const end = c.direction === 'spike' ? openMinute + MINUTE : openMinute;
      const start = end - W;
      const count = async (from: number, to: number) =>
        Number(
          (
            await q.query<{ n: string }>(
              'SELECT count(*)::text AS n FROM goal_conversions WHERE site_id = $1 AND goal_id = $2 AND ts >= $3 AND ts < $4',
              [siteId, c.goalId, new Date(from), new Date(to)],
            )
          ).rows[0]?.n ?? 0,
        );
      const goal = await q.query<{ name: string }>('SELECT name FROM goals WHERE id = $1 AND site_id = $2', [
        c.goalId,
        siteId,
      ]);
      if (!goal.rows[0]) return { value: null };
      const base =
        c.baseline === 'week'
          ? await count(start - WEEK, end - WEEK)
          : (await count(start - c.trailingWindows * W, start)) / c.trailingWindows;
      return { value: await count(start, end), baseline: Math.round(base * 10) / 10, label: goal.rows[0].name };
    }
    case 'traffic': {
      const W = c.windowMinutes * MINUTE;
      const end = c.direction === 'spike' ? openMinute + MINUTE : openMinute;
      const start = end - W;
      const dims = ['', 'page', 'referrer', 'country'];
      const cur = await sums(q, siteId, start, end, dims);
      const base =
        c.baseline === 'week'
          ? await sums(q, siteId, start - WEEK, end - WEEK, dims)
          : await sums(q, siteId, start - c.trailingWindows * W, start, dims);
      const scale = c.baseline === 'week' ? 1 : 1 / c.trailingWindows;
      const dir = c.direction === 'spike' ? 'up' : 'down';
      const drivers: Driver[] = (['page', 'referrer', 'country'] as const).flatMap((d) =>
        topDrivers(byValue(cur, d), byValue(base, d), d, dir, scale)
          .filter((x) => x.value !== '(unknown)')
          .slice(0, 1),
      );
      return { value: total(cur).pageviews, baseline: Math.round(total(base).pageviews * scale * 10) / 10, drivers };
    }
  }
}
