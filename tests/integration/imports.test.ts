import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemberSite } from '@/lib/auth/access';
import type { CurrentUser } from '@/lib/auth/current-user';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { createImport, listImports, type ImportView } from '@/lib/imports/manage';
import type { Source } from '@/lib/imports/sources';
import { exportBody, exportRange } from '@/lib/exports/background';
import { insightsQuerySchema, siteInsights } from '@/lib/insights/report';
import { resolveRange } from '@/lib/analytics/range';
import { rollupBreakdown, rollupSeries } from '@/lib/analytics/rollup-engine';
import { runNextImport } from '@/workers/imports/run-import';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { zip } from '../helpers/zip';
import { jobSettings } from './support/job-settings';

// Imports (issue 16 §4) from small exports the test writes in each tool's documented format —
// Umami's website_event CSV, GA4's BigQuery NDJSON, Plausible's zip of imported_*.csv — with
// malformed rows among them. Raw events go through the rollups and sessions job code (visits and
// bounces computed by Eddy, archive rows written); the same file twice changes nothing; an import
// that crashes half-way resumes to exactly what an uninterrupted one gives; Plausible's daily
// aggregates land as imported day rollups. Dates are fixed, far behind any live watermark.

const NOW = Date.parse('2026-12-06T09:00:00.000Z');
let d: TestDatabase;
let pool: pg.Pool;
let team: string;
const user = { id: randomUUID() } as CurrentUser;

async function newSite(): Promise<MemberSite> {
  const id = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames) VALUES (gen_random_uuid(), $1, 'S', 'shop.test', $2, '{shop.test}') RETURNING id",
      [team, `k-${randomUUID()}`],
    )
  ).rows[0]!.id;
  return { id, domain: 'shop.test', timezone: 'UTC' } as MemberSite;
}

async function importFile(
  site: MemberSite,
  source: Source,
  filename: string,
  data: string | Buffer,
  hooks = {},
): Promise<ImportView> {
  const created = await createImport(
    pool,
    site,
    user,
    { source, filename },
    Buffer.isBuffer(data) ? data : Buffer.from(data),
  );
  await runNextImport(pool, null, jobSettings(), NOW, hooks).catch((e: Error) => {
    if (e.name !== 'ImportInterrupted') throw e;
  });
  return (await listImports(pool, site.id)).find((i) => i.id === created.id)!;
}

async function dayTotals(siteId: string) {
  const r = await pool.query<{ day: string; pageviews: number; sessions: number; bounces: number; duration: number }>(
    `SELECT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, sum(pageviews)::int AS pageviews, sum(sessions)::int AS sessions, sum(bounces)::int AS bounces, sum(duration_ms)::int AS duration
     FROM rollups WHERE site_id = $1 AND granularity = 'day' AND dimension = '' GROUP BY 1 ORDER BY 1`,
    [siteId],
  );
  return r.rows;
}

const UMAMI_HEADER =
  'website_id,session_id,visit_id,event_id,hostname,browser,os,device,screen,language,country,subdivision1,subdivision2,city,url_path,url_query,utm_source,utm_medium,utm_campaign,utm_content,utm_term,referrer_path,referrer_query,referrer_domain,page_title,event_type,event_name,tag,created_at';
function umamiRow(o: {
  session: string;
  path: string;
  at: string;
  type?: number;
  name?: string;
  query?: string;
  ref?: string;
  event?: string;
}): string {
  const cells = [
    randomUUID(),
    o.session,
    randomUUID(),
    o.event ?? randomUUID(),
    'shop.test',
    'firefox',
    'Linux',
    'desktop',
    '1920x1080',
    'de-DE',
    'DE',
    '',
    '',
    'Berlin',
    o.path,
    o.query ?? '',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    o.ref ?? '',
    'Title, with "quotes"',
    String(o.type ?? 1),
    o.name ?? '',
    '',
    o.at,
  ];
  return cells.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',');
}

beforeAll(async () => {
  d = await freshDatabase('imports');
  setEnv({ DATABASE_URL: d.url });
  pool = new pg.Pool({ connectionString: d.url });
  pool.on('error', () => undefined);
  team = (await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id"))
    .rows[0]!.id;
});
afterAll(async () => {
  await closeDb();
  await pool?.end();
  await d?.drop();
});

describe('import from Umami', () => {
  const umami = [
    UMAMI_HEADER,
    umamiRow({
      session: 'sess-a',
      path: '/',
      at: '2025-05-10 10:00:00',
      query: 'utm_source=newsletter&utm_medium=email',
      ref: 'mail.example',
    }),
    umamiRow({ session: 'sess-a', path: '/pricing', at: '2025-05-10 10:01:00' }),
    umamiRow({ session: 'sess-a', path: '/signup', at: '2025-05-10T10:02:00.000Z' }),
    umamiRow({ session: 'sess-a', path: '/signup', at: '2025-05-10 10:03:00', type: 2, name: 'signup' }),
    umamiRow({ session: 'sess-b', path: '/blog', at: '2025-05-10 11:00:00' }),
    // Malformed: a cell missing, a date nobody can read, an event type Umami does not define.
    'x,y,z',
    umamiRow({ session: 'sess-c', path: '/', at: 'yesterday' }),
    umamiRow({ session: 'sess-c', path: '/', at: '2025-05-10 12:00:00', type: 7 }),
  ].join('\n');

  it('replays the events through the jobs: visits and bounces by Eddy, archive rows, a report with reasons', async () => {
    const site = await newSite();
    const report = await importFile(site, 'umami', 'website_event.csv', umami);
    expect(report).toMatchObject({
      status: 'done',
      rowsTotal: 8,
      rowsRead: 8,
      rowsImported: 5,
      rowsSkipped: 3,
      progress: 1,
      firstDay: '2025-05-10',
      lastDay: '2025-05-10',
    });
    expect(report.skipped).toEqual({
      'malformed row (wrong number of cells)': 1,
      'bad timestamp': 1,
      'event type 7 not imported': 1,
    });
    // Two visits: a (3 pageviews and a signup) and b (one pageview: a bounce).
    expect(await dayTotals(site.id)).toEqual([
      { day: '2025-05-10', pageviews: 4, sessions: 2, bounces: 1, duration: 180_000 },
    ]);
    const events = await pool.query<{ name: string; n: number }>(
      'SELECT name, count(*)::int AS n FROM events WHERE site_id = $1 GROUP BY name ORDER BY name',
      [site.id],
    );
    expect(events.rows).toEqual([
      { name: 'pageview', n: 4 },
      { name: 'signup', n: 1 },
    ]);
    const channel = await pool.query<{ value: string; sessions: number }>(
      "SELECT value, sum(sessions)::int AS sessions FROM rollups WHERE site_id = $1 AND granularity = 'day' AND dimension = 'channel' GROUP BY value ORDER BY value",
      [site.id],
    );
    expect(channel.rows).toEqual([
      { value: 'direct', sessions: 1 },
      { value: 'email', sessions: 1 },
    ]);
    // Nothing of the import reaches the live peaks job, and no checkpoint rows stay behind.
    expect((await pool.query('SELECT count(*)::int AS n FROM minute_partials')).rows[0].n).toBe(0);
    // The day's peaks are rebuilt from the imported minutes: 3 pageviews between 10:00 and 10:02
    // are the busiest 5 minutes and hour (11:00's is an hour later; no window holds all four).
    const peaks = await pool.query<{ day: string; size: number; pageviews: number }>(
      "SELECT day::text, window_size_minutes AS size, pageviews FROM peak_windows WHERE site_id = $1 AND content_group = '' ORDER BY size",
      [site.id],
    );
    expect(peaks.rows).toEqual([
      { day: '2025-05-10', size: 5, pageviews: 3 },
      { day: '2025-05-10', size: 60, pageviews: 3 },
    ]);
    expect(
      (await pool.query("SELECT count(*)::int AS n FROM consumer_progress WHERE topic = 'import'")).rows[0].n,
    ).toBe(0);

    // The same file again: nothing changes, and the report says why.
    const again = await importFile(site, 'umami', 'website_event (1).csv', umami);
    expect(again).toMatchObject({ status: 'done', rowsImported: 0, rowsSkipped: 8, sameFileAs: report.id });
    expect(again.skipped['already imported (same event)']).toBe(5);
    expect(await dayTotals(site.id)).toEqual([
      { day: '2025-05-10', pageviews: 4, sessions: 2, bounces: 1, duration: 180_000 },
    ]);
    expect((await pool.query('SELECT count(*)::int AS n FROM events WHERE site_id = $1', [site.id])).rows[0].n).toBe(5);
  });

  it('stops where Eddy began counting the site: days both tools saw would count twice', async () => {
    const site = await newSite();
    await pool.query(
      "INSERT INTO ingestion_ledger (site_id, minute, received, accepted) VALUES ($1, '2025-05-10T10:02:00Z', 1, 1)",
      [site.id],
    );
    const report = await importFile(site, 'umami', 'website_event.csv', umami);
    expect(report).toMatchObject({ status: 'done', rowsImported: 2, rowsSkipped: 6 });
    expect(report.skipped['on or after 2025-05-10 10:02 UTC, when Eddy began counting this site']).toBe(3);
    expect((await dayTotals(site.id)).map((r) => r.pageviews)).toEqual([2]);
  });

  it('an import that crashes half-way resumes to exactly what an uninterrupted one gives', async () => {
    const rows = [UMAMI_HEADER];
    // 120 visitors × 60 pageviews a minute apart over two days: every partition has more than one
    // batch (500), visits cross midnight, and an hour's pause splits each visitor's visit in two.
    // Visitors fall into the 4 import partitions by a hash of the (random) site id: with 60 of
    // them the first partition held 8 or fewer (≤ 480 events, one batch) in ~3 % of runs — CI saw
    // 420; with 120, fewer than 9 of them in one partition is a chance of about 1 in 10 million.
    for (let v = 0; v < 120; v++) {
      for (let i = 0; i < 60; i++) {
        const at = new Date(
          Date.parse('2025-06-01T23:30:00Z') + v * 7_000 + i * 60_000 + (i >= 30 ? 3_600_000 : 0),
        ).toISOString();
        rows.push(
          umamiRow({
            session: `s${v}`,
            path: `/p${i % 7}`,
            at,
            event: `00000000-0000-4000-8000-${String(v * 100 + i).padStart(12, '0')}`,
          }),
        );
      }
    }
    const file = rows.join('\n');
    const clean = await newSite();
    await importFile(clean, 'umami', 'big.csv', file);
    const crashed = await newSite();
    // Killed right after its first batch committed: in the middle of the first partition, with
    // windows and visits open in the operators' memory.
    const first = await importFile(crashed, 'umami', 'big.csv', file, {
      afterBatch: () => {
        throw Object.assign(new Error('worker killed'), { name: 'ImportInterrupted' });
      },
    });
    expect(first).toMatchObject({ status: 'running', rowsImported: 500 });
    const position = await pool.query<{ next_offset: string }>(
      "SELECT next_offset::text FROM consumer_progress WHERE topic = 'import' AND job LIKE $1",
      [`%:${first.id}`],
    );
    expect(position.rows.map((r) => r.next_offset)).toEqual(['500', '500']);
    // The claim of a dead worker expires; the next pass resumes from the stored checkpoint.
    // Relative to the run's injected clock, not the database's: NOW is a fixed instant.
    await pool.query('UPDATE imports SET claimed_at = $2 WHERE id = $1', [first.id, new Date(NOW - 3_600_000)]);
    await runNextImport(pool, null, jobSettings(), NOW);
    const done = (await listImports(pool, crashed.id))[0]!;
    expect(done).toMatchObject({ status: 'done', rowsImported: 7200, rowsSkipped: 0 });
    const want = await dayTotals(clean.id);
    expect(want.reduce((n, r) => n + r.pageviews, 0)).toBe(7200);
    expect(want.reduce((n, r) => n + r.sessions, 0)).toBe(240);
    expect(await dayTotals(crashed.id)).toEqual(want);
  });
});

describe('import from GA4', () => {
  const param = (key: string, v: string | number) => ({
    key,
    value: typeof v === 'string' ? { string_value: v } : { int_value: v },
  });
  const ga = (o: { name: string; at: string; user: string; page?: string; ref?: string; extra?: object[] }) =>
    JSON.stringify({
      event_date: o.at.slice(0, 10).replace(/-/g, ''),
      event_timestamp: String(Date.parse(o.at) * 1000 + 123),
      event_name: o.name,
      event_params: [
        param('page_location', `https://shop.test${o.page ?? '/'}`),
        param('ga_session_id', 1717),
        ...(o.ref ? [param('page_referrer', o.ref)] : []),
        ...(o.extra ?? []),
      ],
      user_pseudo_id: o.user,
      device: { category: 'mobile', operating_system: 'Android', web_info: { browser: 'Chrome' } },
      geo: { country: 'Germany', city: 'Berlin' },
    });
  const ndjson = [
    ga({ name: 'session_start', at: '2025-07-01T08:00:00Z', user: 'u1.1' }),
    ga({ name: 'page_view', at: '2025-07-01T08:00:00Z', user: 'u1.1', ref: 'https://www.google.com/' }),
    ga({ name: 'page_view', at: '2025-07-01T08:02:00Z', user: 'u1.1', page: '/shoes?color=red' }),
    ga({
      name: 'purchase',
      at: '2025-07-01T08:03:00Z',
      user: 'u1.1',
      page: '/checkout',
      extra: [param('currency', 'EUR'), param('value', 42)],
    }),
    ga({ name: 'page_view', at: '2025-07-01T09:00:00Z', user: 'u2.2' }),
    '{"event_name": "page_view", "user_pseudo_id": "u3"}',
    'this is not json',
    '',
  ].join('\n');

  it('imports page views and custom events, derives visits, and reports what it left out', async () => {
    const site = await newSite();
    const report = await importFile(site, 'ga4', 'events_20250701.json', ndjson);
    expect(report).toMatchObject({ status: 'done', rowsTotal: 7, rowsImported: 4, rowsSkipped: 3 });
    expect(report.skipped).toEqual({
      'GA4 automatic event (session_start)': 1,
      'missing event_name or event_timestamp': 1,
      'not JSON': 1,
    });
    expect(await dayTotals(site.id)).toEqual([
      { day: '2025-07-01', pageviews: 3, sessions: 2, bounces: 1, duration: 180_000 },
    ]);
    const purchase = await pool.query<{ record: { props: object; country: string; channel: string } }>(
      "SELECT record FROM events WHERE site_id = $1 AND name = 'purchase'",
      [site.id],
    );
    expect(purchase.rows[0]!.record).toMatchObject({ props: { currency: 'EUR', value: 42 }, country: 'DE' });
    const channels = await pool.query<{ value: string }>(
      "SELECT DISTINCT value FROM rollups WHERE site_id = $1 AND dimension = 'channel' AND sessions > 0 ORDER BY value",
      [site.id],
    );
    expect(channels.rows.map((r) => r.value)).toEqual(['direct', 'search']);
    const again = await importFile(site, 'ga4', 'events_20250701.json', ndjson);
    expect(again.rowsImported).toBe(0);
    expect(await dayTotals(site.id)).toEqual([
      { day: '2025-07-01', pageviews: 3, sessions: 2, bounces: 1, duration: 180_000 },
    ]);
  });
});

describe('import from Plausible', () => {
  const files = {
    'imported_visitors_20240101_20240102.csv':
      'date,visitors,pageviews,bounces,visits,visit_duration\n2024-01-01,120,300,60,150,9000\n2024-01-02,80,200,40,100,5000\n2024-01-03,lots,1,1,1,1\n',
    'imported_pages_20240101_20240102.csv':
      'date,hostname,page,visits,visitors,pageviews,exits,time_on_page\n2024-01-01,shop.test,/,100,90,200,50,3000\n2024-01-01,shop.test,/about,40,30,100,20,900\n',
    // One row per source and UTM combination (newer exports add referrer, utm_source, pageviews).
    'imported_sources_20240101_20240102.csv':
      'date,source,referrer,utm_source,utm_medium,utm_campaign,utm_content,utm_term,pageviews,visitors,visits,visit_duration,bounces\n' +
      '2024-01-01,Google,,,,,,,10,5,5,100,2\n2024-01-01,Newsletter,,news,email,launch,,,20,8,9,300,1\n2024-01-01,Newsletter,,news,email,spring,,,6,3,3,60,1\n2024-01-01,Direct / None,,,,,,,40,20,25,900,10\n',
    // The older column set, without pageviews: a row per region and city adds up per country.
    'imported_locations_20240101_20240102.csv':
      'date,country,region,city,visitors,visits,visit_duration,bounces\n2024-01-01,DE,DE-BE,0,7,8,400,3\n2024-01-01,DE,DE-HH,0,2,2,50,1\n2024-01-01,,,,1,1,0,1\n',
    'imported_devices_20240101_20240102.csv':
      'date,device,visitors,visits,visit_duration,bounces\n2024-01-01,Desktop,9,10,500,4\n2024-01-01,Laptop,1,1,10,0\n2024-01-01,Mobile,6,6,100,5\n',
    'imported_entry_pages_20240101_20240102.csv':
      'date,entry_page,visitors,entrances,visit_duration,bounces\n2024-01-01,/,70,80,4000,30\n2024-01-01,nope,1,1,1,1\n',
    // Hostile cells: a NUL, and a name cut after 500 characters inside an emoji (a lone surrogate).
    'imported_browsers_20240101_20240102.csv': `date,browser,visitors,visits,visit_duration,bounces\n2024-01-01,Fire\u0000fox,2,2,10,1\n2024-01-01,${'x'.repeat(499)}😀,1,1,0,1\n`,
    // Plausible's columns (its CSV importer's imported_custom_events): one row per event name, link
    // and path. Its own automatic events go to Eddy's outbound/download/404 panels; the others are
    // custom events, their link or path a property. Three malformed rows.
    'imported_custom_events_20240101_20240102.csv':
      'date,name,link_url,path,visitors,events\n' +
      '2024-01-01,Signup,,,3,4\n2024-01-01,Signup,,/pricing,2,2\n2024-01-02,Signup,,,5,6\n2024-01-01,"Newsletter, weekly",,,1,1\n' +
      '2024-01-01,Outbound Link: Click,https://ext.test/a,,7,9\n2024-01-01,File Download,https://shop.test/f.pdf,,1,1\n2024-01-01,404,,/missing,2,2\n' +
      '2024-01-01,Purchase,,,many,1\nyesterday,Signup,,,1,1\n2024-01-01,,,,1,1\n',
  };

  /** The site's imported event rows, as the insights job keys them. */
  const importedEvents = async (siteId: string) =>
    (
      await pool.query<{ day: string; kind: string; value: string; count: number }>(
        `SELECT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, kind, value, count FROM event_rollups
          WHERE site_id = $1 AND granularity = 'day' AND source_partition = -1000 ORDER BY 1, 2, 3`,
        [siteId],
      )
    ).rows;

  it('writes the daily aggregates as imported day rollups, idempotently, and reports the tables it does not read', async () => {
    const site = await newSite();
    const report = await importFile(site, 'plausible', 'plausible-export.zip', zip(files));
    // Read: 3 visitors + 2 pages + 4 sources + 3 locations + 3 devices + 2 entry pages + 2 browsers + 10 custom events rows.
    expect(report).toMatchObject({ status: 'done', rowsRead: 29, firstDay: '2024-01-01', lastDay: '2024-01-02' });
    expect(report.skipped).toEqual({ 'bad number': 2, 'bad page': 1, 'bad date': 1, 'no event name': 1 });
    const events = [
      { day: '2024-01-01', kind: '404', value: '/missing', count: 2 },
      { day: '2024-01-01', kind: 'download', value: 'https://shop.test/f.pdf', count: 1 },
      { day: '2024-01-01', kind: 'event', value: 'Newsletter, weekly', count: 1 },
      { day: '2024-01-01', kind: 'event', value: 'Signup', count: 6 },
      { day: '2024-01-01', kind: 'outbound', value: 'https://ext.test/a', count: 9 },
      { day: '2024-01-01', kind: 'prop', value: 'Signup\u001fpath\u001f/pricing', count: 2 },
      { day: '2024-01-02', kind: 'event', value: 'Signup', count: 6 },
    ];
    expect(await importedEvents(site.id)).toEqual(events);
    // The Custom events panel's query: the imported days' counts, tagged as imported.
    const panel = await siteInsights(
      { id: site.id, timezone: 'UTC' },
      insightsQuerySchema.parse({ kind: 'event', range: 'custom', from: '2024-01-01', to: '2024-01-02' }),
      NOW,
    );
    expect(
      panel.kind === 'event' &&
        panel.rows.map((r) => ({ value: r.value, count: r.count, visitors: r.visitors, imported: r.imported })),
    ).toEqual([
      { value: 'Signup', count: 12, visitors: 10, imported: true },
      { value: 'Newsletter, weekly', count: 1, visitors: 1, imported: true },
    ]);
    // A two-day range charts hours, which imported days do not have: its totals, breakdowns and
    // conversion rates still read the imported day rows (they once showed 0 visitors and "—").
    const twoDays = resolveRange(
      { range: 'custom', compare: 'none', from: '2024-01-01', to: '2024-01-02' },
      'UTC',
      NOW,
    );
    expect(twoDays.interval).toBe('hour');
    const { summary, series } = await rollupSeries(site.id, twoDays, 'UTC', NOW);
    expect({ pageviews: summary.pageviews, sessions: summary.sessions, bounceRate: summary.bounceRate }).toEqual({
      pageviews: 500,
      sessions: 250,
      bounceRate: 100 / 250,
    });
    // 120 and 80 visitors on the two days (synthetic sketches, HyperLogLog's error).
    expect(summary.visitors).toBeGreaterThanOrEqual(120);
    expect(summary.visitors).toBeLessThanOrEqual(203);
    expect(series.reduce((n, pt) => n + pt.pageviews, 0)).toBe(0); // no hours: nothing invented
    const countries = await rollupBreakdown(site.id, twoDays, 'UTC', 'country', 10, NOW);
    expect(countries.map((r) => [r.value, r.sessions])).toEqual([
      ['DE', 10],
      ['(unknown)', 1],
    ]);
    expect(panel.kind === 'event' && panel.rows[0]!.conversionRate).toBeCloseTo(10 / summary.visitors, 5);
    // Breakdowns of the imported day, summed where the export splits a value over several rows.
    const breakdown = await pool.query<{ dimension: string; value: string; sessions: number; bounces: number }>(
      "SELECT dimension, value, sessions, bounces FROM rollups WHERE site_id = $1 AND dimension NOT IN ('', 'page') ORDER BY dimension, value",
      [site.id],
    );
    expect(breakdown.rows).toEqual([
      { dimension: 'browser', value: 'Fire\uFFFDfox', sessions: 2, bounces: 1 },
      { dimension: 'browser', value: `${'x'.repeat(499)}\uFFFD`, sessions: 1, bounces: 1 },
      { dimension: 'country', value: '(unknown)', sessions: 1, bounces: 1 },
      { dimension: 'country', value: 'DE', sessions: 10, bounces: 4 },
      { dimension: 'device', value: 'desktop', sessions: 11, bounces: 4 },
      { dimension: 'device', value: 'mobile', sessions: 6, bounces: 5 },
      { dimension: 'entry_page', value: '/', sessions: 80, bounces: 30 },
      { dimension: 'referrer', value: '(direct)', sessions: 25, bounces: 10 },
      { dimension: 'referrer', value: 'Google', sessions: 5, bounces: 2 },
      { dimension: 'referrer', value: 'Newsletter', sessions: 12, bounces: 2 },
      { dimension: 'utm_campaign', value: 'launch', sessions: 9, bounces: 1 },
      { dimension: 'utm_campaign', value: 'spring', sessions: 3, bounces: 1 },
      { dimension: 'utm_medium', value: 'email', sessions: 12, bounces: 2 },
      { dimension: 'utm_source', value: 'news', sessions: 12, bounces: 2 },
    ]);
    const expected = [
      { day: '2024-01-01', pageviews: 300, sessions: 150, bounces: 60, duration: 9_000_000 },
      { day: '2024-01-02', pageviews: 200, sessions: 100, bounces: 40, duration: 5_000_000 },
    ];
    expect(await dayTotals(site.id)).toEqual(expected);
    const csv = '';
    let out = csv;
    for await (const c of exportBody(pool, site.id, 'rollups', 'csv', exportRange('UTC', '2024-01-01', '2024-01-02')))
      out += c;
    const lines = out.trim().split('\r\n');
    // Visitors from the synthetic sketch: HyperLogLog's error (0.8 % at p = 14) on 120 and 80.
    const visitors = lines.slice(1).map((l) => Number(l.split(',')[1]));
    expect(Math.abs(visitors[0]! - 120)).toBeLessThanOrEqual(3);
    expect(Math.abs(visitors[1]! - 80)).toBeLessThanOrEqual(3);
    expect(lines.slice(1).every((l) => l.endsWith(',yes'))).toBe(true);
    const pages = await pool.query<{ value: string; pageviews: number }>(
      "SELECT value, pageviews FROM rollups WHERE site_id = $1 AND dimension = 'page' ORDER BY value",
      [site.id],
    );
    expect(pages.rows).toEqual([
      { value: '/', pageviews: 200 },
      { value: '/about', pageviews: 100 },
    ]);
    await importFile(site, 'plausible', 'plausible-export.zip', zip(files));
    expect(await dayTotals(site.id)).toEqual(expected);
    expect(await importedEvents(site.id)).toEqual(events);
  });

  it('imports only the days before Eddy began counting the site', async () => {
    const site = await newSite();
    await pool.query(
      "INSERT INTO ingestion_ledger (site_id, minute, received, accepted) VALUES ($1, '2024-01-02T08:00:00Z', 1, 1)",
      [site.id],
    );
    const report = await importFile(site, 'plausible', 'plausible-export.zip', zip(files));
    // The visitors row and the custom event of 2024-01-02.
    expect(report.skipped['on or after 2024-01-02, when Eddy began counting this site']).toBe(2);
    expect((await dayTotals(site.id)).map((r) => r.day)).toEqual(['2024-01-01']);
    expect([...new Set((await importedEvents(site.id)).map((r) => r.day))]).toEqual(['2024-01-01']);
  });

  it('a file that is not a zip of Plausible CSVs fails with a reason instead of importing guesses', async () => {
    const site = await newSite();
    const report = await importFile(
      site,
      'plausible',
      'export.zip',
      Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(40)]),
    );
    expect(report.status).toBe('failed');
    expect(report.error).toMatch(/not a zip file/);
  });
});
