import type pg from 'pg';
import { countVisitors } from '../analytics/visitors';
import { dayPageviews, dayTotals, topPages } from '../rollups/digest';
import { DAY } from '@/lib/time';

// The weekly digest of a site: last week's numbers from the day rollups (visitors are a merge
// of the day sketches, never a sum), the top pages, the busiest hour and SLA compliance.

export interface WeeklyDigest {
  siteName: string;
  domain: string;
  weekStart: number;
  weekEnd: number;
  visitors: number;
  pageviews: number;
  sessions: number;
  bounceRate: number | null;
  previousPageviews: number;
  topPages: { path: string; pageviews: number }[];
  peak: { windowStart: number; windowEnd: number; pageviews: number } | null;
  slaCompliance: number | null;
  /** Issue 14: each goal's conversions, unique converters and conversion rate (converters ÷ visitors) for the week. */
  goals: { name: string; conversions: number; converters: number; conversionRate: number | null }[];
}

const WEEK = 7 * DAY;

export async function weeklyDigest(db: pg.Pool, siteId: string, weekStart: number): Promise<WeeklyDigest> {
  const weekEnd = weekStart + WEEK;
  const from = new Date(weekStart).toISOString();
  const to = new Date(weekEnd).toISOString();
  const range = [siteId, from, to];
  const [site, totals, previous, pages, peak, sla, goals] = await Promise.all([
    db.query<{ name: string; domain: string }>('SELECT name, domain FROM sites WHERE id = $1', [siteId]),
    dayTotals(db, siteId, from, to),
    dayPageviews(db, siteId, new Date(weekStart - WEEK).toISOString(), from),
    topPages(db, siteId, from, to),
    db.query<{ window_start: Date; window_end: Date; pageviews: number }>(
      `SELECT window_start, window_end, pageviews FROM peak_windows WHERE site_id = $1 AND content_group = '' AND window_size_minutes = 60
       AND window_start >= $2 AND window_start < $3 ORDER BY pageviews DESC, window_start LIMIT 1`,
      range,
    ),
    db.query<{ measured: number; ok: number }>(
      'SELECT count(*)::int AS measured, count(*) FILTER (WHERE NOT breached)::int AS ok FROM sla_minutes WHERE site_id = $1 AND minute >= $2 AND minute < $3',
      range,
    ),
    db.query<{ name: string; conversions: number; converters: number }>(
      `SELECT g.name, count(c.event_id)::int AS conversions, count(DISTINCT c.visitor_id)::int AS converters
         FROM goals g LEFT JOIN goal_conversions c ON c.goal_id = g.id AND c.ts >= $2 AND c.ts < $3
        WHERE g.site_id = $1 GROUP BY g.id, g.name, g.created_at ORDER BY g.created_at, g.id`,
      range,
    ),
  ]);
  const sum = (k: 'pageviews' | 'sessions' | 'bounces') => totals.reduce((n, r) => n + r[k], 0);
  const sessions = sum('sessions');
  const visitors = countVisitors(totals.map((r) => r.visitors));
  const measured = sla.rows[0]?.measured ?? 0;
  return {
    siteName: site.rows[0]?.name ?? 'Your site',
    domain: site.rows[0]?.domain ?? '',
    weekStart,
    weekEnd,
    visitors,
    pageviews: sum('pageviews'),
    sessions,
    bounceRate: sessions ? sum('bounces') / sessions : null,
    previousPageviews: previous,
    topPages: pages,
    peak: peak.rows[0]
      ? {
          windowStart: peak.rows[0].window_start.getTime(),
          windowEnd: peak.rows[0].window_end.getTime(),
          pageviews: peak.rows[0].pageviews,
        }
      : null,
    slaCompliance: measured ? sla.rows[0]!.ok / measured : null,
    goals: goals.rows.map((g) => ({
      ...g,
      conversionRate: visitors ? g.converters / Math.max(visitors, g.converters) : null,
    })),
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');

export function digestText(d: WeeklyDigest, timeZone: string): { subject: string; text: string } {
  const day = (t: number) =>
    new Intl.DateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short' }).format(new Date(t));
  const time = (t: number) =>
    new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(
      new Date(t),
    );
  const change = d.previousPageviews
    ? ` (${d.pageviews >= d.previousPageviews ? '+' : ''}${Math.round(((d.pageviews - d.previousPageviews) / d.previousPageviews) * 100)} % on the week before)`
    : '';
  const lines = [
    `${d.siteName} (${d.domain}), week of ${day(d.weekStart)} – ${day(d.weekEnd - 1)}`,
    '',
    `Visitors: ${fmt(d.visitors)}`,
    `Pageviews: ${fmt(d.pageviews)}${change}`,
    `Visits: ${fmt(d.sessions)}${d.bounceRate === null ? '' : `, bounce rate ${Math.round(d.bounceRate * 100)} %`}`,
    d.peak
      ? `Busiest hour: ${time(d.peak.windowStart)}–${time(d.peak.windowEnd)}, ${fmt(d.peak.pageviews)} pageviews`
      : 'Busiest hour: no traffic',
    d.slaCompliance === null
      ? 'Freshness SLA: no target or no measurements'
      : `Freshness SLA met ${(d.slaCompliance * 100).toFixed(1)} % of the time`,
    '',
    'Top pages:',
    ...(d.topPages.length ? d.topPages.map((p) => `  ${p.path} — ${fmt(p.pageviews)}`) : ['  (none)']),
    ...(d.goals.length
      ? [
          '',
          'Goals:',
          ...d.goals.map(
            (g) =>
              `  ${g.name} — ${fmt(g.converters)} converted (${g.conversionRate === null ? '—' : `${(g.conversionRate * 100).toFixed(1)} %`}), ${fmt(g.conversions)} conversions`,
          ),
        ]
      : []),
  ];
  return { subject: `Eddy weekly: ${fmt(d.visitors)} visitors on ${d.siteName}`, text: `${lines.join('\n')}\n` };
}
