import type { HyperLogLogJson } from '../stream';
import { pool } from '../db/client';
import { liveMinuteBreakdown, liveMinuteTotals } from '../rollups/live-window';
import { countVisitors } from '../analytics/visitors';
import { siteFreshnessNow } from '../sla/current';
import type { SiteFreshnessNow } from '../sla/behind';
import { MINUTE } from '@/lib/time';

// What the live dashboard shows, computed from the rollups the workers keep current (they write
// the open minute on every batch, not only when it closes). Pushed to a site's Socket.IO room at
// most every 100–250 ms (lib/live/push-pace.ts), and answered on `join` so a (re)connecting client starts complete.

export const LIVE_WINDOW_MINUTES = 30;
export const CURRENT_VISITORS_MINUTES = 5;

export interface TopRow {
  value: string;
  pageviews: number;
  visitors: number;
}

export interface LiveSnapshot {
  siteId: string;
  /** Server time the snapshot was computed, ms. */
  at: number;
  /** Distinct visitors with activity in the last 5 minutes. */
  currentVisitors: number;
  /** Pageviews per minute for the last 30 minutes, oldest first, zero-filled. */
  minutes: { minute: number; pageviews: number }[];
  /**
   * Visits that started in the last 30 minutes — the header's window, like its pageviews — open
   * ones included (the sessions job fires visits from their first pageview), and the share of
   * them that bounced so far (null without visits). An open one-page visit counts as a bounce
   * until its second pageview, custom event or 10 s of visible time retracts that.
   */
  visits: number;
  bounceRate: number | null;
  /** Last 5 minutes. */
  topPages: TopRow[];
  topReferrers: TopRow[];
  topCountries: TopRow[];
  /** Busiest 5-minute window so far today (site timezone), if any. */
  peak: { windowStart: number; windowEnd: number; pageviews: number; visitors: number } | null;
  /** Newest event time the rollups have seen for this site, ms. */
  latestEventAt: number | null;
  /** The collect endpoint's receive time of the newest event in this snapshot, ms (freshness). */
  latestReceivedAt: number | null;
  /** The site's freshness as last measured, for the tiles' "N s behind". */
  freshness: SiteFreshnessNow;
}

export async function liveSnapshot(siteId: string, now: number): Promise<LiveSnapshot> {
  const db = pool();
  const currentMinute = Math.floor(now / MINUTE) * MINUTE;
  const since30 = new Date(currentMinute - (LIVE_WINDOW_MINUTES - 1) * MINUTE).toISOString();
  const since5 = currentMinute - (CURRENT_VISITORS_MINUTES - 1) * MINUTE;
  const totals = await liveMinuteTotals(db, siteId, since30);
  const perMinute = new Map<number, number>();
  const recentSketches: (HyperLogLogJson | null)[] = [];
  let visits = 0;
  let bounces = 0;
  for (const r of totals) {
    const m = r.bucket.getTime();
    perMinute.set(m, (perMinute.get(m) ?? 0) + r.pageviews);
    visits += r.sessions;
    bounces += r.bounces;
    if (m >= since5) recentSketches.push(r.visitors);
  }
  const breakdown = await liveMinuteBreakdown(
    db,
    siteId,
    ['page', 'referrer', 'country'],
    new Date(since5).toISOString(),
  );
  const top = (dimension: string): TopRow[] => {
    const byValue = new Map<string, { pageviews: number; sketches: (HyperLogLogJson | null)[] }>();
    for (const r of breakdown) {
      if (r.dimension !== dimension) continue;
      const v = byValue.get(r.value) ?? { pageviews: 0, sketches: [] };
      v.pageviews += r.pageviews;
      v.sketches.push(r.visitors);
      byValue.set(r.value, v);
    }
    return [...byValue]
      .map(([value, v]) => ({ value, pageviews: v.pageviews, visitors: countVisitors(v.sketches) }))
      .sort((a, b) => b.visitors - a.visitors || b.pageviews - a.pageviews || a.value.localeCompare(b.value))
      .slice(0, 5);
  };
  const peak = await db.query<{ window_start: Date; window_end: Date; pageviews: number; visitors: number }>(
    // Today in the site's zone: the newest row would be yesterday's until today has a peak.
    `SELECT p.window_start, p.window_end, p.pageviews, p.visitors FROM peak_windows p JOIN sites s ON s.id = p.site_id
     WHERE p.site_id = $1 AND p.content_group = '' AND p.window_size_minutes = 5
       AND p.day = ($2::timestamptz AT TIME ZONE s.timezone)::date`,
    [siteId, new Date(now)],
  );
  const latest = await db.query<{ latest: Date | null; received: Date | null }>(
    'SELECT max(ts) AS latest, max(received_at) AS received FROM events WHERE site_id = $1 AND ts >= $2',
    [siteId, since30],
  );
  const freshness = await siteFreshnessNow(siteId);
  return {
    siteId,
    at: now,
    currentVisitors: countVisitors(recentSketches),
    minutes: Array.from({ length: LIVE_WINDOW_MINUTES }, (_, i) => {
      const minute = currentMinute - (LIVE_WINDOW_MINUTES - 1 - i) * MINUTE;
      return { minute, pageviews: perMinute.get(minute) ?? 0 };
    }),
    visits,
    bounceRate: visits > 0 ? Math.min(1, bounces / visits) : null,
    topPages: top('page'),
    topReferrers: top('referrer'),
    topCountries: top('country'),
    peak: peak.rows[0]
      ? {
          windowStart: peak.rows[0].window_start.getTime(),
          windowEnd: peak.rows[0].window_end.getTime(),
          pageviews: peak.rows[0].pageviews,
          visitors: peak.rows[0].visitors,
        }
      : null,
    latestEventAt: latest.rows[0]?.latest?.getTime() ?? null,
    latestReceivedAt: latest.rows[0]?.received?.getTime() ?? null,
    freshness,
  };
}
