import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '@/lib/bus';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { closeColumnar, columnarStore } from '@/lib/analytics/columnar/engine';
import { eventRecordSchema, type EventRecord } from '@/lib/events/record';
import { siteBreakdown, siteStats, statsQuerySchema } from '@/lib/analytics/stats';
import { insightsQuerySchema, siteInsights } from '@/lib/insights/report';
import type { Job } from '@/workers/runtime';
import { DefinitionsTable } from '@/workers/insights/definitions';
import { insightsJob } from '@/workers/insights/insights-job';
import { rollupsJob } from '@/workers/rollups/rollups-job';
import { sessionsJob } from '@/workers/sessions/sessions-job';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { applyThroughJobs } from './support/apply-jobs';
import { jobSettings } from './support/job-settings';

// The dashboard filtered by a custom event (`custom_event=Signup`) and by one of its properties
// (`event_prop=plan:pro`): a handful of fixed events through the real rollups, sessions and
// insights jobs, and every number checked against values worked out by hand below. The filter
// selects the *visits* that sent the event: a visitor's other visit does not count.

const DAY = Date.UTC(2026, 10, 20);
const NOW = DAY + 2 * 86_400_000;
const MIN = 60_000;
const at = (h: number, m = 0, s = 0) => DAY + h * 3_600_000 + m * MIN + s * 1000;
const PARTITIONS = 3;
const silentBus = { producer: () => ({ send: async () => [] }) } as unknown as Bus;

let d: TestDatabase;
let pool: pg.Pool;
let siteId: string;

type Fixture = [
  visitor: string,
  name: string,
  ts: number,
  path: string,
  props?: Record<string, string | number | boolean>,
  country?: string,
];

// Session gap 30 min. Visits, by hand:
//   a1 10:00–10:03  /, /pricing, Signup{plan pro}, /thanks        3 pageviews, 180 s
//   a2 14:00–14:01  /, /blog                                       2 pageviews,  60 s  (no signup)
//   b  11:00–11:00:30  /pricing, Signup{plan free, seats 2}        1 pageview,   30 s  (not a bounce: a custom event)
//   c  12:00–12:01  /, /pricing                                    2 pageviews,  60 s  (no signup)
//   d  13:00–13:05  / (DE), Signup{plan pro} (DE)                  1 pageview,  300 s
//   e  15:00        /, and a server request named Signup           1 pageview,    0 s  (a bounce; a request is no event of a visit)
const FIXTURE: Fixture[] = [
  ['a', 'pageview', at(10), '/'],
  ['a', 'pageview', at(10, 1), '/pricing'],
  ['a', 'Signup', at(10, 2), '/pricing', { plan: 'pro' }],
  ['a', 'pageview', at(10, 3), '/thanks'],
  ['a', 'pageview', at(14), '/'],
  ['a', 'pageview', at(14, 1), '/blog'],
  ['b', 'pageview', at(11), '/pricing'],
  ['b', 'Signup', at(11, 0, 30), '/pricing', { plan: 'free', seats: 2 }],
  ['c', 'pageview', at(12), '/'],
  ['c', 'pageview', at(12, 1), '/pricing'],
  ['d', 'pageview', at(13), '/', undefined, 'DE'],
  ['d', 'Signup', at(13, 5), '/', { plan: 'pro' }, 'DE'],
  ['e', 'pageview', at(15), '/'],
  ['e', 'request', at(15, 0, 10), '/api/signup'],
];

function recordOf([visitor, name, ts, path, props, country]: Fixture): EventRecord {
  return eventRecordSchema.parse({
    v: 1,
    eventId: randomUUID(),
    siteId,
    visitorId: `visitor-${visitor}`,
    name,
    url: `https://shop.example${path}`,
    hostname: 'shop.example',
    path,
    channel: 'direct',
    device: 'desktop',
    browser: 'Firefox',
    os: 'Linux',
    country: country ?? 'FR',
    ...(props ? { props } : {}),
    ...(name === 'request' ? { request: { method: 'POST', status: 200, durationMs: 3 } } : {}),
    ts,
    receivedAt: ts,
  });
}

/** The fixture through the real jobs, per source partition in time order, as the consumers apply it. */
async function runJobs(records: EventRecord[]): Promise<void> {
  const dims = new SiteDimensionTable(pool);
  await dims.refresh(NOW);
  const defs = new DefinitionsTable(pool);
  await defs.refresh();
  const settings = jobSettings();
  const jobs: Job<EventRecord>[] = [
    rollupsJob({ bus: silentBus, db: pool, dims, settings, clock: () => NOW }),
    sessionsJob({ bus: silentBus, db: pool, dims, settings, clock: () => NOW }),
    insightsJob({ bus: silentBus, dims, defs, settings, clock: () => NOW }),
  ];
  await applyThroughJobs(pool, jobs, records, { partitions: PARTITIONS });
}

beforeAll(async () => {
  d = await freshDatabase('event_filters');
  setEnv({ DATABASE_URL: d.url });
  pool = new pg.Pool({ connectionString: d.url });
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
  ).rows[0]!.id;
  siteId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, timezone, session_gap_minutes) VALUES (gen_random_uuid(), $1, 'Shop', 'shop.example', $2, 'UTC', 30) RETURNING id",
      [team, `k-${randomUUID()}`],
    )
  ).rows[0]!.id;
  await runJobs(FIXTURE.map(recordOf));
}, 120_000);

afterAll(async () => {
  await closeColumnar();
  await closeDb();
  await pool?.end();
  await d?.drop();
});

const site = () => ({ id: siteId, timezone: 'UTC', sessionGapMinutes: 30 });
const range = { range: 'custom', from: '2026-11-20', to: '2026-11-20', compare: 'none' };
const stats = (filters: Record<string, string>) =>
  siteStats(site(), statsQuerySchema.parse({ ...range, ...filters }), NOW);
const rows = async (dimension: 'page' | 'entry_page' | 'country', filters: Record<string, string>) =>
  (await siteBreakdown(site(), statsQuerySchema.parse({ ...range, ...filters }), dimension, 10, NOW)).rows.map((r) => [
    r.value,
    r.visitors ?? r.sessions,
    r.pageviews,
  ]);
const summary = async (filters: Record<string, string>) => {
  const s = (await stats(filters)).summary;
  return {
    visitors: s.visitors,
    pageviews: s.pageviews,
    visits: s.sessions,
    bounceRate: s.bounceRate,
    avgDurationMs: s.avgDurationMs,
    pagesPerVisit: s.pagesPerSession,
  };
};

// Both places filtered views are computed: the columnar copy (the default; its matching events come
// from the archive into DuckDB) and PostgreSQL.
describe.each(['columnar', 'postgres'] as const)('the dashboard filtered by a custom event (%s)', (engine) => {
  beforeAll(async () => {
    setEnv({ DATABASE_URL: d.url, FILTER_ENGINE: engine });
    if (engine === 'columnar') await columnarStore()!.start();
  });
  afterAll(() => {
    if (engine === 'columnar') {
      expect(columnarStore()!.stats.reads).toBeGreaterThan(10);
      expect(columnarStore()!.stats.declined).toBe(0);
    }
  });

  it('unfiltered, for reference: 5 visitors, 10 pageviews, 6 visits', async () => {
    // a1 3 + a2 2 + b 1 + c 2 + d 1 + e 1 pageviews; e bounced.
    expect(await summary({})).toEqual({
      visitors: 5,
      pageviews: 10,
      visits: 6,
      bounceRate: 1 / 6,
      avgDurationMs: ((180 + 60 + 30 + 60 + 300 + 0) * 1000) / 6,
      pagesPerVisit: 10 / 6,
    });
  });

  it('custom_event=Signup keeps the visits that sent it (a1, b, d): their visitors, their pageviews, those visits', async () => {
    const s = await stats({ custom_event: 'Signup' });
    expect(s.filters).toEqual({ custom_event: 'Signup' });
    expect(s.source).toBe('events');
    expect(await summary({ custom_event: 'Signup' })).toEqual({
      visitors: 3,
      pageviews: 5,
      visits: 3,
      bounceRate: 0,
      avgDurationMs: ((180 + 30 + 300) * 1000) / 3,
      pagesPerVisit: 5 / 3,
    });
    // The hourly series puts them where they happened.
    expect(
      s.series
        .filter((p) => p.pageviews > 0 || p.sessions > 0)
        .map((p) => [new Date(p.start).getUTCHours(), p.visitors, p.pageviews, p.sessions]),
    ).toEqual([
      [10, 1, 3, 1],
      [11, 1, 1, 1],
      [13, 1, 1, 1],
    ]);
  });

  it('the breakdowns count only those visits: a’s visit without a signup (/blog) is not there', async () => {
    expect(await rows('page', { custom_event: 'Signup' })).toEqual([
      ['/', 2, 2],
      ['/pricing', 2, 2],
      ['/thanks', 1, 1],
    ]);
    expect(await rows('entry_page', { custom_event: 'Signup' })).toEqual([
      ['/', 2, null],
      ['/pricing', 1, null],
    ]);
    expect(await rows('country', { custom_event: 'Signup' })).toEqual([
      ['FR', 2, 4],
      ['DE', 1, 1],
    ]);
  });

  it('event_prop=plan:pro narrows to the visits whose Signup had plan = pro (a1, d); a number property compares as its text', async () => {
    expect(await summary({ custom_event: 'Signup', event_prop: 'plan:pro' })).toEqual({
      visitors: 2,
      pageviews: 4,
      visits: 2,
      bounceRate: 0,
      avgDurationMs: ((180 + 300) * 1000) / 2,
      pagesPerVisit: 2,
    });
    expect(await summary({ custom_event: 'Signup', event_prop: 'seats:2' })).toEqual({
      visitors: 1,
      pageviews: 1,
      visits: 1,
      bounceRate: 0,
      avgDurationMs: 30_000,
      pagesPerVisit: 1,
    });
    expect(await rows('page', { custom_event: 'Signup', event_prop: 'plan:pro' })).toEqual([
      ['/', 2, 2],
      ['/pricing', 1, 1],
      ['/thanks', 1, 1],
    ]);
    // A property alone matches it on any event (the columnar engine reads those from the archive,
    // a custom event's from its copy): here only the Signups carry one.
    expect(await summary({ event_prop: 'plan:pro' })).toEqual(
      await summary({ custom_event: 'Signup', event_prop: 'plan:pro' }),
    );
    expect((await summary({ event_prop: 'seats:2' })).visits).toBe(1);
  });

  it('intersects with a dimension filter, and matches nothing for an event nobody sent or a server request', async () => {
    expect(await summary({ custom_event: 'Signup', country: 'DE' })).toEqual({
      visitors: 1,
      pageviews: 1,
      visits: 1,
      bounceRate: 0,
      avgDurationMs: 300_000,
      pagesPerVisit: 1,
    });
    expect(await summary({ custom_event: 'Signup', page: '/thanks' })).toEqual({
      visitors: 1,
      pageviews: 1,
      visits: 1,
      bounceRate: 0,
      avgDurationMs: 180_000,
      pagesPerVisit: 3,
    });
    const none = { visitors: 0, pageviews: 0, visits: 0, bounceRate: null, avgDurationMs: null, pagesPerVisit: null };
    expect(await summary({ custom_event: 'Refund' })).toEqual(none);
    expect(await summary({ custom_event: 'request' })).toEqual(none);
    expect(await summary({ custom_event: 'Signup', event_prop: 'plan:enterprise' })).toEqual(none);
  });

  it('a malformed event_prop is refused', () => {
    expect(() => statsQuerySchema.parse({ ...range, event_prop: 'plan' })).toThrow();
  });

  it('the Custom events panel counts the visitors the filter selects', async () => {
    const r = await siteInsights(
      { id: siteId, timezone: 'UTC' },
      insightsQuerySchema.parse({ ...range, kind: 'event', custom_event: 'Signup', event_prop: 'plan:pro' }),
      NOW,
    );
    if (r.kind !== 'event') throw new Error('expected the event panel');
    expect(r.totalVisitors).toBe(2);
    expect(r.rows.map((x) => [x.value, x.count, x.visitors])).toEqual([['Signup', 2, 2]]);
  });
});
