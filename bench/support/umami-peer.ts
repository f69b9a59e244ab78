import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { Filters } from '@/lib/analytics/dimensions';
import type { Period } from '@/lib/analytics/range';

// The peer baseline of the filtered dashboard benchmark: Umami's PostgreSQL schema and query
// shapes, re-implemented here from Umami's documented SQL (src/queries/sql/getWebsiteStats.ts,
// pageviews/getPageviewExpandedMetrics.ts, getPageviewStats/getSessionStats; db/postgresql schema
// and its indexes) — named as Umami's, loaded with the benchmark's own traffic. Not Umami's code.
//
// Mapping: session_id = md5(visitor id) (Umami: one session per visitor and salt period);
// visit_id = md5(visitor id, clock hour) (Umami rotates the visit salt hourly); one
// website_event row per event (event_type 1 pageview, 2 custom); session attributes (country,
// device, browser, os) on `umami_session` and joined when a filter or breakdown needs them.
// Channels are computed in JavaScript by Umami, so the peer has no channel filter or breakdown.

export async function loadUmami(db: pg.Pool, siteId: string): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS umami_website_event, umami_session`);
  await db.query(`CREATE TABLE umami_session (
    session_id uuid PRIMARY KEY, website_id uuid NOT NULL, browser varchar(20), os varchar(20), device varchar(20), country char(2), created_at timestamptz)`);
  await db.query(`CREATE TABLE umami_website_event (
    event_id uuid PRIMARY KEY, website_id uuid NOT NULL, session_id uuid NOT NULL, visit_id uuid NOT NULL, created_at timestamptz,
    url_path varchar(500) NOT NULL, referrer_domain varchar(500), utm_source varchar(255), utm_medium varchar(255), utm_campaign varchar(255),
    event_type integer NOT NULL DEFAULT 1, event_name varchar(50))`);
  await db.query(
    `INSERT INTO umami_session
     SELECT DISTINCT ON (md5(visitor_id)::uuid) md5(visitor_id)::uuid, site_id, left(record->>'browser', 20), left(record->>'os', 20), record->>'device', left(record->>'country', 2), ts
       FROM events WHERE site_id = $1 ORDER BY md5(visitor_id)::uuid, ts`,
    [siteId],
  );
  await db.query(
    `INSERT INTO umami_website_event
     SELECT event_id, site_id, md5(visitor_id)::uuid, md5(visitor_id || date_trunc('hour', ts)::text)::uuid, ts, record->>'path', record->>'referrerHost',
            record->'utm'->>'source', record->'utm'->>'medium', record->'utm'->>'campaign',
            CASE name WHEN 'pageview' THEN 1 ELSE 2 END, CASE WHEN name NOT IN ('pageview', 'engagement') THEN name END
       FROM events WHERE site_id = $1`,
    [siteId],
  );
  // Umami's PostgreSQL indexes on these tables.
  for (const ix of [
    'umami_website_event (created_at)',
    'umami_website_event (session_id)',
    'umami_website_event (visit_id)',
    'umami_website_event (website_id)',
    'umami_website_event (website_id, created_at)',
    'umami_website_event (website_id, created_at, url_path)',
    'umami_website_event (website_id, created_at, referrer_domain)',
    'umami_website_event (website_id, session_id, created_at)',
    'umami_website_event (website_id, visit_id, created_at)',
    'umami_session (website_id)',
    'umami_session (website_id, created_at)',
    'umami_session (website_id, created_at, browser)',
    'umami_session (website_id, created_at, os)',
    'umami_session (website_id, created_at, device)',
    'umami_session (website_id, created_at, country)',
  ]) {
    await db.query(`CREATE INDEX ON ${ix}`);
  }
}

const EVENT_COLUMN: Partial<Record<string, string>> = {
  page: 'website_event.url_path',
  referrer: 'website_event.referrer_domain',
  utm_source: 'website_event.utm_source',
  utm_medium: 'website_event.utm_medium',
  utm_campaign: 'website_event.utm_campaign',
};
const SESSION_COLUMN: Partial<Record<string, string>> = {
  country: 'session.country',
  device: 'session.device',
  browser: 'session.browser',
  os: 'session.os',
};

/** The breakdowns Umami's dashboard shows for these dimensions (no channel: Umami derives it in JavaScript). */
export const UMAMI_BREAKDOWNS = [
  'page',
  'entry_page',
  'exit_page',
  'referrer',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'country',
  'device',
  'browser',
  'os',
] as const;

/** One filtered dashboard load the way Umami's PostgreSQL queries compute it; returns each query's time. */
export async function umamiLoad(
  db: pg.Pool,
  siteId: string,
  current: Period,
  previous: Period,
  filters: Filters,
): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  const preds: string[] = [];
  const params: unknown[] = [siteId];
  let joinSession = false;
  for (const [d, v] of Object.entries(filters)) {
    params.push(v);
    if (EVENT_COLUMN[d]) preds.push(`${EVENT_COLUMN[d]} = $${params.length}`);
    else if (SESSION_COLUMN[d]) {
      preds.push(`${SESSION_COLUMN[d]} = $${params.length}`);
      joinSession = true;
    } else throw new Error(`the Umami peer has no filter on ${d}`);
  }
  const n = params.length;
  const filterSql = preds.map((p) => ` and ${p}`).join('');
  const join = (need: boolean) =>
    need
      ? 'inner join umami_session session on website_event.session_id = session.session_id and website_event.website_id = session.website_id'
      : '';
  const where = `website_event.website_id = $1 and website_event.created_at between $${n + 1} and $${n + 2}`;
  const run = async (name: string, sql: string, p: Period) => {
    const t = performance.now();
    await db.query(sql, [...params, new Date(p.start), new Date(p.end - 1)]);
    times.set(name, (times.get(name) ?? 0) + performance.now() - t);
  };
  // getWebsiteStats: visits grouped by (session, visit) first.
  const stats = `select sum(t.c) as pageviews, count(distinct t.session_id) as visitors, count(distinct t.visit_id) as visits,
                        sum(case when t.c = 1 then 1 else 0 end) as bounces, sum(extract(epoch from (t.max_time - t.min_time))) as totaltime
                   from (select website_event.session_id, website_event.visit_id, count(*) as c, min(website_event.created_at) as min_time, max(website_event.created_at) as max_time
                           from umami_website_event website_event ${join(joinSession)}
                          where ${where} and event_type = 1${filterSql}
                          group by 1, 2) as t`;
  // getPageviewStats / getSessionStats: the chart.
  const pageviewSeries = `select date_trunc('day', website_event.created_at at time zone 'UTC') x, count(*) y
                            from umami_website_event website_event ${join(joinSession)} where ${where} and event_type = 1${filterSql} group by 1`;
  const sessionSeries = `select date_trunc('day', website_event.created_at at time zone 'UTC') x, count(distinct website_event.session_id) y
                           from umami_website_event website_event ${join(joinSession)} where ${where} and event_type = 1${filterSql} group by 1`;
  for (const [p, label] of [
    [current, 'current'],
    [previous, 'previous'],
  ] as const) {
    await run(`stats (${label})`, stats, p);
    await run(`pageview series (${label})`, pageviewSeries, p);
    await run(`session series (${label})`, sessionSeries, p);
  }
  // getPageviewExpandedMetrics / getSessionExpandedMetrics: one query per table.
  for (const d of UMAMI_BREAKDOWNS) {
    let column: string;
    let extra = '';
    let needSession = joinSession;
    if (d === 'entry_page' || d === 'exit_page') {
      column = 'website_event.url_path';
      extra = `join (select visit_id, ${d === 'entry_page' ? 'min' : 'max'}(created_at) target_created_at from umami_website_event
                      where website_id = $1 and created_at between $${n + 1} and $${n + 2} and event_type = 1 group by visit_id) x
                 on x.visit_id = website_event.visit_id and x.target_created_at = website_event.created_at`;
    } else if (SESSION_COLUMN[d]) {
      column = SESSION_COLUMN[d]!;
      needSession = true;
    } else column = EVENT_COLUMN[d]!;
    await run(
      `breakdown ${d}`,
      `select ${column} x, count(distinct website_event.session_id) y
         from umami_website_event website_event ${join(needSession)} ${extra}
        where ${where} and event_type = 1${filterSql}
        group by 1 order by 2 desc limit 10`,
      current,
    );
  }
  return times;
}
