import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, topics } from '@/lib/bus';
import { KafkaBus } from '@/lib/bus/kafka';
import { eventBreakdown, eventSeries } from '@/lib/analytics/event-engine';
import { resolveRange } from '@/lib/analytics/range';
import { siteStats, statsQuerySchema } from '@/lib/analytics/stats';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { eventKey, type EventRecord } from '@/lib/events/record';
import { rollupsJob } from '@/workers/rollups/rollups-job';
import { runJob, type RunningJob } from '@/workers/runtime';
import { sessionsJob } from '@/workers/sessions/sessions-job';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import { eventually } from '../helpers/wait';
import { jobSettings } from './support/job-settings';

// Pages per visit from the visits themselves (issue 12 §2, "computed from the same set of
// visits"), through the real jobs on real Kafka. A visit that starts at 23:57 in Berlin and
// goes on past midnight has all three of its pages on the day it started: the dashboard used to
// divide the day's pageviews by the day's visits, which gave 2.00 for that day and 2.00 for the
// next (one page left over, divided by the next day's single-page visit). Fixed instants in
// March 2026, so the test means the same at any hour it runs; the jobs' event time starts from
// these events (a fresh namespace), so nothing is late.

const Z = (iso: string) => Date.parse(iso);
const NOW = Z('2026-03-11T12:00:00Z');
let db: TestDatabase;
let pool: pg.Pool;
let bus: KafkaBus;
let dims: SiteDimensionTable;
let jobs: RunningJob[] = [];
let siteId: string;
const site = () => ({ id: siteId, timezone: 'Europe/Berlin', sessionGapMinutes: 30 });

const pageview = (visitorId: string, path: string, ts: number): EventRecord => ({
  v: 1,
  eventId: randomUUID(),
  siteId,
  visitorId,
  name: 'pageview',
  url: `https://pages.test${path}`,
  hostname: 'pages.test',
  path,
  channel: 'direct',
  device: 'desktop',
  browser: 'Firefox',
  os: 'Linux',
  ts,
});
const produce = (events: EventRecord[]) =>
  bus.producer().send(
    topics.events,
    events.map((e) => ({ key: eventKey(e), value: JSON.stringify(e) })),
  );

const settings = jobSettings({
  EVENTS_PARTITIONS: 1,
  OUT_OF_ORDERNESS_MS: 5000,
  ALLOWED_LATENESS_MS: 120_000,
  IDLE_TIMEOUT_MS: 60_000,
});
beforeAll(async () => {
  setEnv({
    BUS_NAMESPACE: `vpages${randomBytes(3).toString('hex')}.`,
    EVENTS_PARTITIONS: String(settings.EVENTS_PARTITIONS),
  });
  db = await freshDatabase('vpages');
  setEnv({ DATABASE_URL: db.url });
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  pool.on('error', () => undefined);
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
  ).rows[0]!.id;
  siteId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, timezone) VALUES (gen_random_uuid(), $1, 'p', 'pages.test', $2, 'Europe/Berlin') RETURNING id",
      [team, `k-${randomUUID()}`],
    )
  ).rows[0]!.id;
  bus = new KafkaBus(kafkaBrokers());
  await ensureTopics(bus);
  dims = new SiteDimensionTable(pool);
  await dims.refresh();
  jobs = [
    await runJob(rollupsJob({ bus, db: pool, dims, settings }), bus, pool, { sessionTimeoutMs: 6000 }),
    await runJob(sessionsJob({ bus, db: pool, dims, settings }), bus, pool, { sessionTimeoutMs: 6000 }),
  ];
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(jobs.map((j) => j.stop()));
  await bus?.close();
  await pool?.end();
  await closeDb();
  await db?.drop();
});

/** Both jobs have applied the partition's first `n` events (offsets 0 to n − 1 of the one partition). */
const appliedThrough = (n: number, what: string) =>
  eventually(
    async () =>
      (
        await pool.query<{ n: string }>(
          "SELECT min(next_offset)::text AS n FROM consumer_progress WHERE job IN ('rollups', 'sessions') AND topic LIKE '%events'",
        )
      ).rows[0]?.n === String(n),
    30_000,
    what,
  );

const tiles = async (from: string, to: string, filtered = false) => {
  const q = statsQuerySchema.parse({
    range: 'custom',
    from,
    to,
    compare: 'none',
    ...(filtered ? { browser: 'Firefox' } : {}),
  });
  const { summary: m } = await siteStats(site(), q, NOW);
  return { visits: m.sessions, pageviews: m.pageviews, pagesPerVisit: m.pagesPerSession, bounceRate: m.bounceRate };
};

describe('pages per visit', () => {
  it(
    'counts a visit across midnight with all its pages on the day it started, filtered or not',
    { timeout: 90_000 },
    async () => {
      // 23:57, 23:58 and 00:02 Berlin time (UTC+1 in March): one visit of three pages.
      await produce([
        pageview('a', '/', Z('2026-03-09T22:57:00Z')),
        pageview('a', '/pricing', Z('2026-03-09T22:58:00Z')),
        pageview('a', '/signup', Z('2026-03-09T23:02:00Z')),
      ]);
      await eventually(
        async () =>
          (await pool.query('SELECT count(*)::int AS n FROM events WHERE site_id = $1', [siteId])).rows[0].n === 3,
        30_000,
        'visit A archived',
      );
      await eventually(
        async () =>
          (await pool.query('SELECT pageviews FROM sessions WHERE site_id = $1', [siteId])).rows[0]?.pageviews === 3,
        30_000,
        'visit A live with 3 pages',
      );
      // The next morning, a single-page visit.
      await produce([pageview('b', '/blog', Z('2026-03-10T08:00:00Z'))]);
      await eventually(
        async () =>
          (await pool.query('SELECT count(*)::int AS n FROM sessions WHERE site_id = $1', [siteId])).rows[0].n === 2,
        30_000,
        'visit B live',
      );
      await eventually(
        async () => (await tiles('2026-03-10', '2026-03-10')).pageviews === 2,
        30_000,
        'day 2 pageviews in the rollups',
      );

      const day1 = { visits: 1, pageviews: 2, pagesPerVisit: 3, bounceRate: 0 };
      const day2 = { visits: 1, pageviews: 2, pagesPerVisit: 1, bounceRate: 1 };
      const both = { visits: 2, pageviews: 4, pagesPerVisit: 2, bounceRate: 0.5 };
      expect(await tiles('2026-03-09', '2026-03-09')).toEqual(day1);
      expect(await tiles('2026-03-10', '2026-03-10')).toEqual(day2);
      expect(await tiles('2026-03-09', '2026-03-10')).toEqual(both);
      // One definition of a visit: a filter every event matches reads the raw events and gives the same tiles.
      expect(await tiles('2026-03-09', '2026-03-09', true)).toEqual(day1);
      expect(await tiles('2026-03-10', '2026-03-10', true)).toEqual(day2);
      expect(await tiles('2026-03-09', '2026-03-10', true)).toEqual(both);
    },
  );

  it(
    'an engagement ping after the session gap (a tab closed later) is no visit of its own',
    { timeout: 90_000 },
    async () => {
      // Visitor C views two pages at 11:00 and 11:01 Berlin time and closes the tab at 11:45:
      // the ping that sends its visible time arrives 44 minutes after the last page.
      await produce([
        pageview('c', '/', Z('2026-03-10T10:00:00Z')),
        pageview('c', '/docs', Z('2026-03-10T10:01:00Z')),
        {
          ...pageview('c', '/docs', Z('2026-03-10T10:45:00Z')),
          name: 'engagement',
          engagement: { visibleMs: 5000, scrollDepth: 40 },
        },
      ]);
      // Both jobs have applied all seven events of this file (offsets 0–6 of the one partition).
      await appliedThrough(7, 'the ping applied by both jobs');
      const rows = await pool.query<{ pageviews: number }>(
        "SELECT pageviews FROM sessions WHERE site_id = $1 AND visitor_id = 'c'",
        [siteId],
      );
      expect(rows.rows.map((r) => r.pageviews)).toEqual([2]);
      // Day 2: B's one-page visit (a bounce) and C's two-page visit — not a third visit of 0 pages
      // (pageviews: A's page after midnight, B's and C's two).
      const day2 = { visits: 2, pageviews: 4, pagesPerVisit: 1.5, bounceRate: 0.5 };
      await eventually(
        async () => JSON.stringify(await tiles('2026-03-10', '2026-03-10')) === JSON.stringify(day2),
        30_000,
        'day 2 with C in the rollups',
      );
      expect(await tiles('2026-03-10', '2026-03-10')).toEqual(day2);
      expect(await tiles('2026-03-10', '2026-03-10', true)).toEqual(day2);
    },
  );

  it(
    "a visit that an engagement ping opened is attributed to its landing: the first pageview's source and page",
    { timeout: 90_000 },
    async () => {
      // Visitor D's tab on /docs sends a ping at 15:00 Berlin time (closed after the gap), then D
      // comes back from a search engine to /pricing at 15:02 and goes on to /signup.
      await produce([
        {
          ...pageview('d', '/docs', Z('2026-03-10T14:00:00Z')),
          name: 'engagement',
          engagement: { visibleMs: 3000, scrollDepth: 20 },
        },
        { ...pageview('d', '/pricing', Z('2026-03-10T14:02:00Z')), channel: 'search', referrerHost: 'www.google.com' },
        { ...pageview('d', '/signup', Z('2026-03-10T14:03:00Z')), channel: 'internal' },
      ]);
      await appliedThrough(10, 'D applied by both jobs');
      const rows = await pool.query(
        "SELECT entry_path, referrer_host, channel, pageviews FROM sessions WHERE site_id = $1 AND visitor_id = 'd'",
        [siteId],
      );
      // Before: entry /docs, (direct) — the ping's.
      expect(rows.rows).toEqual([
        { entry_path: '/pricing', referrer_host: 'www.google.com', channel: 'search', pageviews: 2 },
      ]);
      // The dashboard's filtered view (facts) and the raw-events reference agree.
      const q = statsQuerySchema.parse({
        range: 'custom',
        from: '2026-03-10',
        to: '2026-03-10',
        compare: 'none',
        referrer: 'www.google.com',
      });
      const r = await siteStats(site(), q, NOW);
      expect([r.summary.sessions, r.summary.pageviews]).toEqual([1, 2]);
      // The raw-events reference rebuilds the visit in SQL with the same rule (`pick: 'landing'`).
      const p = resolveRange(
        { range: 'custom', from: '2026-03-10', to: '2026-03-10', compare: 'none' },
        'Europe/Berlin',
        NOW,
      );
      const raw = await eventSeries(siteId, p, 30, { referrer: 'www.google.com' }, NOW);
      expect([raw.summary.sessions, raw.summary.pageviews]).toEqual([1, 2]);
      const entries = await eventBreakdown(siteId, p, 30, { referrer: 'www.google.com' }, 'entry_page', 10);
      expect(entries.map((e) => [e.value, e.sessions])).toEqual([['/pricing', 1]]);
    },
  );
});
