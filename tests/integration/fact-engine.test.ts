import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '@/lib/bus';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { eventRecordSchema, type EventRecord } from '@/lib/events/record';
import {
  activeFilters,
  DIMENSIONS,
  isEventDimension,
  isSessionDimension,
  type Dimension,
  type Filters,
} from '@/lib/analytics/dimensions';
import { eventBreakdown, eventSeries } from '@/lib/analytics/event-engine';
import { backfillFacts } from '@/lib/analytics/fact-backfill';
import { factBreakdown, factLoad, factSeries } from '@/lib/analytics/fact-engine';
import { closeColumnar, columnarStore } from '@/lib/analytics/columnar/engine';
import type { BreakdownRow } from '@/lib/analytics/metrics';
import { resolveRange, type Period } from '@/lib/analytics/range';
import { rollupBreakdown } from '@/lib/analytics/rollup-engine';
import { zonedMidnight } from '@/lib/analytics/time-zone';
import type { Job } from '@/workers/runtime';
import { rollupsJob } from '@/workers/rollups/rollups-job';
import { sessionsJob } from '@/workers/sessions/sessions-job';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { applyThroughJobs } from './support/apply-jobs';
import { jobSettings } from './support/job-settings';
import { generateTraffic, type SeedEvent } from './support/seed-traffic';

// The facts engine (filtered views from event_facts/visit_facts, written by the real rollups and
// sessions jobs) against the raw-events engine (visits rebuilt from the archive), on seeded random
// traffic, for random filter combinations: the same totals, series and breakdown rows, exactly
// (visitors too: both count distinct visitor ids). And for a single filter, the filtered totals
// equal the clicked row of the unfiltered rollups. Fixed days, so no wall clock is involved.

const TZ = 'Europe/Berlin';
const GAP = 30;
const DAYS = ['2026-11-02', '2026-11-03', '2026-11-04'];
const NOW = zonedMidnight('2026-11-06', TZ);
const PARTITIONS = 3;
const silentBus = { producer: () => ({ send: async () => [] }) } as unknown as Bus;

let d: TestDatabase;
let pool: pg.Pool;
let siteId: string;
let seeded: SeedEvent[];

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function recordOf(e: SeedEvent): EventRecord {
  return eventRecordSchema.parse({
    v: 1,
    eventId: e.eventId,
    siteId,
    visitorId: e.visitorId,
    name: e.name,
    url: `https://shop.example${e.path}`,
    hostname: 'shop.example',
    path: e.path,
    referrerHost: e.referrerHost,
    channel: e.channel,
    utm: e.utm,
    device: e.device,
    browser: e.browser,
    os: e.os,
    country: e.country,
    engagement: e.name === 'engagement' ? { visibleMs: e.visibleMs ?? 0, scrollDepth: 50 } : undefined,
    ts: e.ts,
    receivedAt: e.ts,
  });
}

/** The traffic through the real jobs, per source partition in time order, in batches of 150, as the consumers apply it. */
async function runJobs(events: SeedEvent[]): Promise<void> {
  const dims = new SiteDimensionTable(pool);
  await dims.refresh(NOW);
  const settings = jobSettings();
  const jobs: Job<EventRecord>[] = [
    rollupsJob({ bus: silentBus, db: pool, dims, settings, clock: () => NOW }),
    sessionsJob({ bus: silentBus, db: pool, dims, settings, clock: () => NOW }),
  ];
  await applyThroughJobs(pool, jobs, events.map(recordOf), { partitions: PARTITIONS, batch: 150 });
}

beforeAll(async () => {
  d = await freshDatabase('facts');
  setEnv({ DATABASE_URL: d.url });
  pool = new pg.Pool({ connectionString: d.url });
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
  ).rows[0]!.id;
  siteId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, timezone, session_gap_minutes) VALUES (gen_random_uuid(), $1, 'Shop', 'shop.example', $2, $3, $4) RETURNING id",
      [team, `k-${randomUUID()}`, TZ, GAP],
    )
  ).rows[0]!.id;
  seeded = generateTraffic({ seed: 2026, days: DAYS, timezone: TZ, visitorsPerDay: 40 });
  await runJobs(seeded);
}, 120_000);

afterAll(async () => {
  await closeColumnar();
  await closeDb();
  await pool?.end();
  await d?.drop();
});

const byValue = (rows: BreakdownRow[]) =>
  [...rows].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));

/** Values present in the traffic per dimension (event values; entry/exit pages are pages). */
function valuesOf(dim: Dimension): string[] {
  const v = new Set<string>();
  for (const e of seeded) {
    const internal = e.channel === 'internal';
    const x: Record<Dimension, string | undefined> = {
      page: e.path,
      entry_page: e.path,
      exit_page: e.path,
      referrer: internal ? undefined : (e.referrerHost ?? '(direct)'),
      channel: internal ? undefined : e.channel,
      utm_source: e.utm?.source,
      utm_medium: e.utm?.medium,
      utm_campaign: e.utm?.campaign,
      country: e.country ?? '(unknown)',
      device: e.device,
      browser: e.browser,
      os: e.os,
    };
    if (x[dim] !== undefined) v.add(x[dim]!);
  }
  return [...v].sort();
}

async function expectSameAnswers(p: Period, filters: Filters): Promise<void> {
  const label = JSON.stringify(filters);
  const [a, b] = await Promise.all([factSeries(siteId, p, filters, NOW), eventSeries(siteId, p, GAP, filters, NOW)]);
  expect(a.summary, label).toEqual(b.summary);
  expect(a.series, label).toEqual(b.series);
  for (const dim of DIMENSIONS) {
    const [x, y] = await Promise.all([
      factBreakdown(siteId, p, filters, dim, 100),
      eventBreakdown(siteId, p, GAP, filters, dim, 100),
    ]);
    expect(byValue(x), `${label} by ${dim}`).toEqual(byValue(y));
  }
}

// Both places the facts engine computes from: the columnar copy (the default) and PostgreSQL.
describe.each(['columnar', 'postgres'] as const)('facts engine (%s) = raw-events engine', (engine) => {
  beforeAll(async () => {
    setEnv({ DATABASE_URL: d.url, FILTER_ENGINE: engine });
    if (engine === 'columnar') await columnarStore()!.start();
  });
  afterAll(() => {
    // Every load of the columnar pass was answered by the copy, none fell back to PostgreSQL.
    if (engine === 'columnar') {
      const s = columnarStore()!.stats;
      expect(s.ready).toBe(true);
      expect(s.reads).toBeGreaterThan(100);
      expect(s.declined).toBe(0);
    }
  });

  it('the workers wrote one event fact per archived event and one visit fact per visit', async () => {
    const n = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]!.n);
    expect(await n('SELECT count(*) AS n FROM event_facts')).toBe(seeded.length);
    expect(await n('SELECT count(*) AS n FROM events')).toBe(seeded.length);
    expect(await n('SELECT count(*) AS n FROM visit_facts')).toBe(await n('SELECT count(*) AS n FROM sessions'));
    expect(await n('SELECT count(*) AS n FROM visit_facts')).toBeGreaterThan(100);
  });

  it('unfiltered, and for 40 random filter combinations (1–3 dimensions), over 3 days and over 1 day (hourly)', async () => {
    const rnd = prng(17);
    const threeDays = resolveRange({ range: 'custom', from: DAYS[0], to: DAYS[2], compare: 'none' }, TZ, NOW);
    const oneDay = resolveRange({ range: 'custom', from: DAYS[1], to: DAYS[1], compare: 'none' }, TZ, NOW);
    const total = await factSeries(siteId, threeDays, {}, NOW);
    expect(total.summary.pageviews).toBe(seeded.filter((e) => e.name === 'pageview').length);
    await expectSameAnswers(threeDays, {});
    let nonEmpty = 0;
    for (let i = 0; i < 40; i++) {
      const count = 1 + Math.floor(rnd() * 3);
      const filters: Filters = {};
      while (activeFilters(filters).length < count) {
        const dim = DIMENSIONS[Math.floor(rnd() * DIMENSIONS.length)]!;
        const values = valuesOf(dim);
        filters[dim] = values[Math.floor(rnd() * values.length)]!;
      }
      const p = i % 4 === 3 ? oneDay : threeDays;
      await expectSameAnswers(p, filters);
      if ((await factSeries(siteId, p, filters, NOW)).summary.pageviews > 0) nonEmpty++;
    }
    // The combinations must exercise something: most of them match traffic.
    expect(nonEmpty).toBeGreaterThan(20);
    // A value no event has matches nothing (and is no error).
    const none = await factSeries(siteId, threeDays, { page: '/never-seen' }, NOW);
    expect(none.summary.pageviews).toBe(0);
    expect(none.summary.sessions).toBe(0);
  });

  it('one pass yields what the separate calls yield', async () => {
    const p = resolveRange({ range: 'custom', from: DAYS[0], to: DAYS[2], compare: 'none' }, TZ, NOW);
    const filters: Filters = { country: 'DE' };
    const all = await factLoad(siteId, p, filters, { series: true, breakdowns: [...DIMENSIONS], limit: 10, now: NOW });
    const series = await factSeries(siteId, p, filters, NOW);
    expect(all.summary).toEqual(series.summary);
    expect(all.series).toEqual(series.series);
    for (const dim of DIMENSIONS)
      expect(all.breakdowns[dim], dim).toEqual(await factBreakdown(siteId, p, filters, dim, 10));
  });

  it('a single filter: the filtered totals equal the clicked row of the unfiltered rollups', async () => {
    const p = resolveRange({ range: 'custom', from: DAYS[0], to: DAYS[2], compare: 'none' }, TZ, NOW);
    let compared = 0;
    for (const dim of DIMENSIONS) {
      const rows = await rollupBreakdown(siteId, p, TZ, dim, 100, NOW, { useCache: false });
      for (const row of rows.slice(0, 3)) {
        const f = await factSeries(siteId, p, { [dim]: row.value }, NOW);
        if (isEventDimension(dim)) {
          expect(f.summary.pageviews, `${dim}=${row.value}`).toBe(row.pageviews);
          // Exactly, at these sizes (a few hundred visitors): the row's sketches are exact while
          // sparse, and the filtered view counts distinct visitors.
          expect(f.summary.visitors, `${dim}=${row.value}`).toBe(row.visitors);
        }
        if (isSessionDimension(dim)) {
          expect(f.summary.sessions, `${dim}=${row.value}`).toBe(row.sessions);
          expect(f.summary.bounceRate, `${dim}=${row.value}`).toBeCloseTo(row.bounceRate!, 10);
          expect(f.summary.avgDurationMs, `${dim}=${row.value}`).toBeCloseTo(row.avgDurationMs!, 6);
        }
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(25);
  });

  it('a filtered breakdown of a visit attribute accounts for every filtered visit', async () => {
    // Filtered by a page, the visits that viewed it each have a source, a device, an entry page —
    // including the visits whose own view of the page was an internal navigation (no source on
    // that pageview): their source row has visits and no pageviews, and once went missing.
    const p = resolveRange({ range: 'custom', from: DAYS[0], to: DAYS[2], compare: 'none' }, TZ, NOW);
    // With an entry page other than the page, every matching view of the page is such a navigation.
    let checked = 0;
    const pages = valuesOf('page').slice(0, 4);
    for (const page of pages)
      for (const entry of pages) {
        const filters: Filters = entry === page ? { page } : { page, entry_page: entry };
        const f = await factSeries(siteId, p, filters, NOW);
        if (f.summary.sessions === 0) continue;
        for (const dim of ['referrer', 'channel', 'device', 'entry_page'] as const) {
          const rows = await factBreakdown(siteId, p, filters, dim, 100);
          expect(
            rows.reduce((n, r) => n + (r.sessions ?? 0), 0),
            `${JSON.stringify(filters)} by ${dim}`,
          ).toBe(f.summary.sessions);
        }
        checked++;
      }
    expect(checked).toBeGreaterThan(4);
  });

  it('a source is a visit attribute: filtered by one, every page of its visits; its rows count visits and their visitors', async () => {
    const p = resolveRange({ range: 'custom', from: DAYS[0], to: DAYS[2], compare: 'none' }, TZ, NOW);
    let checked = 0;
    for (const dim of ['referrer', 'channel'] as const)
      for (const value of valuesOf(dim).slice(0, 3)) {
        const f = await factSeries(siteId, p, { [dim]: value }, NOW);
        if (f.summary.sessions < 5) continue;
        // The visits' pages, not their landings only (those were ~1 per visit): the filtered
        // pageviews are the pages those visits viewed in the range (pages per visit counts each
        // visit whole, past the range's end too).
        const visitPages = f.summary.pagesPerSession! * f.summary.sessions;
        expect(f.summary.pageviews, `${dim}=${value}`).toBeGreaterThan(f.summary.sessions * 1.2);
        expect(f.summary.pageviews, `${dim}=${value}`).toBeLessThanOrEqual(visitPages);
        expect(f.summary.pageviews, `${dim}=${value}`).toBeGreaterThan(visitPages * 0.97);
        const pages = await factBreakdown(siteId, p, { [dim]: value }, 'page', 100);
        expect(pages.length, `${dim}=${value}`).toBeGreaterThan(1);
        expect(
          pages.reduce((n, r) => n + r.pageviews!, 0),
          `${dim}=${value}`,
        ).toBe(f.summary.pageviews);
        checked++;
      }
    expect(checked).toBeGreaterThan(2);
    // Filtered by a page reached by internal navigations, each source row has the visitors of its
    // visits (they read "1 visit, 0 visitors" when counted from landings of the page).
    let rows = 0;
    const pages = valuesOf('page').slice(0, 4);
    for (const page of pages)
      for (const entry of pages) {
        if (entry === page) continue;
        for (const r of await factBreakdown(siteId, p, { page, entry_page: entry }, 'referrer', 100)) {
          expect(r.visitors, `${page} from ${entry}: ${r.value}`).toBeGreaterThan(0);
          expect(r.visitors!, `${page} from ${entry}: ${r.value}`).toBeLessThanOrEqual(r.sessions!);
          rows++;
        }
      }
    expect(rows).toBeGreaterThan(4);
  });

  it('the backfill from the archive and the sessions rows writes what the jobs wrote', async () => {
    const snapshot = async () => ({
      events: (
        await pool.query(
          'SELECT site_id, ts, event_id, visitor, kind, page, referrer, channel, utm_source, utm_medium, utm_campaign, country, device, browser, os FROM event_facts ORDER BY event_id',
        )
      ).rows,
      visits: (
        await pool.query(
          'SELECT site_id, started_at, visitor, ended_at, pageviews, duration_ms, bounce, entry_page, exit_page, referrer, channel, utm_source, utm_medium, utm_campaign, country, device, browser, os FROM visit_facts ORDER BY started_at, visitor',
        )
      ).rows,
    });
    const before = await snapshot();
    await pool.query('DELETE FROM event_facts');
    await pool.query('DELETE FROM visit_facts');
    await backfillFacts(pool, siteId);
    expect(await snapshot()).toEqual(before);
  });
});
