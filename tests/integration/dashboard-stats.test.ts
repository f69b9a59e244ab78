import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { DIMENSIONS } from '@/lib/analytics/dimensions';
import { eventBreakdown, eventSeries } from '@/lib/analytics/event-engine';
import { resolveRange } from '@/lib/analytics/range';
import { compactDay, freshDays, SETTLED_AFTER_MS } from '@/lib/analytics/day-cache';
import { planPeriod, rollupBreakdown, rollupSeries } from '@/lib/analytics/rollup-engine';
import type { BreakdownRow } from '@/lib/analytics/metrics';
import type { BreakdownResult, StatsResult } from '@/lib/analytics/stats';
import { addDays, localDate, zonedMidnight } from '@/lib/analytics/time-zone';
import { nowClearOfLocalHourEnd } from '../helpers/clock';
import { startStack, type Stack } from '../helpers/stack';
import { HttpSession } from './support/http-session';
import { generateTraffic, insertTraffic, rollupsOf, type SeedEvent } from './support/seed-traffic';

// The history queries on seeded traffic: the rollup engine (unfiltered views) and the raw-event
// engine (filtered views) must tell the same story — exact pageviews, visits, bounces and
// durations, visitors within HyperLogLog's error — and the API must serve it with ranges,
// comparison, filters that match the clicked row, and CSV. The site is in Asia/Kolkata
// (UTC+5:30) so local days are day rows and local hours need minute rows.

const TZ = 'Asia/Kolkata';
const GAP = 30;
const PASSWORD = 'correct horse battery staple';

let stack: Stack;
let db: pg.Pool;
let http: HttpSession;
let siteId: string;
let events: SeedEvent[];
// The API answers from the web server's clock: keep this test's `now` in the same local hour
// (it checks "today" and the future hours of today) by not starting in the last 90 s of one.
const now = await nowClearOfLocalHourEnd(TZ, 90_000);
const today = localDate(now, TZ);
const days = [1, 2, 3, 4, 5].map((n) => addDays(today, -n));
const previousDays = [8, 10].map((n) => addDays(today, -n));

beforeAll(async () => {
  stack = await startStack({ bus: 'embedded', worker: false, label: 'dashstats' });
  db = new pg.Pool({ connectionString: stack.db.url });
  db.on('error', () => undefined);
  setEnv({ DATABASE_URL: stack.db.url });
  http = new HttpSession(stack.url);
  const email = `stats-${randomUUID().slice(0, 8)}@example.test`;
  await http.signUp(email, PASSWORD);
  const teams = await http.json<{ teams: { id: string }[] }>('/api/teams');
  const site = await http.json<{ site: { id: string } }>('/api/sites', {
    method: 'POST',
    json: { teamId: teams.body.teams[0]!.id, name: 'Shop', domain: 'shop.example', timezone: TZ },
  });
  siteId = site.body.site.id;
  events = [
    ...generateTraffic({ seed: 42, days, timezone: TZ, visitorsPerDay: 60 }),
    ...generateTraffic({ seed: 7, days: previousDays, timezone: TZ, visitorsPerDay: 20 }),
  ];
  await insertTraffic(db, siteId, events, rollupsOf(events, TZ, GAP), GAP);
});

afterAll(async () => {
  await closeDb();
  await db?.end();
  await stack?.stop();
});

const inRange = (from: string, to: string) =>
  events.filter((e) => localDate(e.ts, TZ) >= from && localDate(e.ts, TZ) <= to);

describe('rollup engine and raw-event engine agree', () => {
  it('totals and the daily series of the last 7 days', async () => {
    const r = resolveRange({ range: '7d', compare: 'previous' }, TZ, now);
    const a = await rollupSeries(siteId, r, TZ, now, { useCache: false });
    const b = await eventSeries(siteId, r, GAP, {}, now);
    const seeded = inRange(r.from, r.to);
    expect(a.summary.pageviews).toBe(seeded.filter((e) => e.name === 'pageview').length);
    expect(b.summary.pageviews).toBe(a.summary.pageviews);
    expect(b.summary.sessions).toBe(a.summary.sessions);
    expect(b.summary.bounceRate).toBeCloseTo(a.summary.bounceRate!, 10);
    expect(b.summary.avgDurationMs).toBeCloseTo(a.summary.avgDurationMs!, 6);
    const exactVisitors = new Set(seeded.map((e) => e.visitorId)).size;
    expect(b.summary.visitors).toBe(exactVisitors);
    expect(Math.abs(a.summary.visitors - exactVisitors) / exactVisitors).toBeLessThan(0.03);
    expect(a.series.map((p) => p.label)).toEqual(r.points.map((p) => p.label));
    expect(a.series.map((p) => p.pageviews)).toEqual(b.series.map((p) => p.pageviews));
    expect(a.series.map((p) => p.sessions)).toEqual(b.series.map((p) => p.sessions));
  });

  it('a single past day hour by hour (minute rows at the half-hour offset) sums to that day', async () => {
    const day = days[1]!;
    const hourly = resolveRange({ range: 'custom', from: day, to: day, compare: 'none' }, TZ, now);
    expect(hourly.interval).toBe('hour');
    const a = await rollupSeries(siteId, hourly, TZ, now);
    const b = await eventSeries(siteId, hourly, GAP, {}, now);
    expect(a.series).toHaveLength(24);
    expect(a.series.map((p) => p.pageviews)).toEqual(b.series.map((p) => p.pageviews));
    expect(a.summary.pageviews).toBe(inRange(day, day).filter((e) => e.name === 'pageview').length);
    expect(a.summary.sessions).toBe(b.summary.sessions);
  });

  it.each(DIMENSIONS)('breakdown by %s', async (dimension) => {
    const r = resolveRange({ range: '7d', compare: 'none' }, TZ, now);
    const byValue = (rows: BreakdownRow[]) => [...rows].sort((x, y) => (x.value < y.value ? -1 : 1));
    const a = byValue(await rollupBreakdown(siteId, r, TZ, dimension, 100, now, { useCache: false }));
    const b = byValue(await eventBreakdown(siteId, r, GAP, {}, dimension, 100));
    const strip = (rows: typeof a) =>
      rows.map((x) => ({
        value: x.value,
        pageviews: x.pageviews,
        sessions: x.sessions,
        bounceRate: x.bounceRate,
        avgDurationMs: x.avgDurationMs && Math.round(x.avgDurationMs),
      }));
    expect(strip(a)).toEqual(strip(b));
    for (let i = 0; i < a.length; i++) {
      if (a[i]!.visitors === null) continue;
      // Breakdown sketches are p=12 (1.6 % standard error).
      expect(Math.abs(a[i]!.visitors! - b[i]!.visitors!)).toBeLessThanOrEqual(Math.max(2, b[i]!.visitors! * 0.05));
    }
  });
});

describe('compacted settled days', () => {
  it('answer exactly like the rollups they came from, and a later change to a day bypasses its copy', async () => {
    const r = resolveRange({ range: '7d', compare: 'previous' }, TZ, now);
    const settled = [...days, ...previousDays].map((d) => zonedMidnight(d, TZ));
    for (const d of settled) await compactDay(siteId, d);
    const { fresh } = await freshDays(siteId, settled);
    expect(fresh.size).toBe(settled.length);
    const plan = await planPeriod(siteId, r, TZ, now);
    // A day is read from its copy once it is settled (ended SETTLED_AFTER_MS ago): in the first two
    // hours after local midnight that excludes yesterday (this failed a CI run at 00:25 IST).
    const settledNow = days.filter((d) => zonedMidnight(addDays(d, 1), TZ) + SETTLED_AFTER_MS <= now);
    expect(settledNow.length).toBeGreaterThanOrEqual(days.length - 1);
    expect(plan.cachedDays).toEqual(settledNow.map((d) => zonedMidnight(d, TZ)).sort((x, y) => x - y));
    const cached = await rollupSeries(siteId, r, TZ, now);
    const direct = await rollupSeries(siteId, r, TZ, now, { useCache: false });
    expect(cached).toEqual(direct);
    for (const dimension of DIMENSIONS) {
      expect(await rollupBreakdown(siteId, r, TZ, dimension, 100, now)).toEqual(
        await rollupBreakdown(siteId, r, TZ, dimension, 100, now, { useCache: false }),
      );
    }
    // A late event lands on a compacted day: its totals row moves, so the day is read from rollups.
    const day = zonedMidnight(days[2]!, TZ);
    await db.query(
      `UPDATE rollups SET pageviews = pageviews + 1, updated_at = now()
        WHERE site_id = $1 AND granularity = 'day' AND bucket = $2 AND dimension IN ('', 'page') AND value IN ('', '/pricing') AND source_partition = 0`,
      [siteId, new Date(day)],
    );
    const after = await rollupSeries(siteId, r, TZ, now);
    expect(after.summary.pageviews).toBe(direct.summary.pageviews + 1);
    const pricing = (await rollupBreakdown(siteId, r, TZ, 'page', 100, now)).find((x) => x.value === '/pricing')!;
    const pricingBefore = (await rollupBreakdown(siteId, r, TZ, 'page', 100, now, { useCache: false })).find(
      (x) => x.value === '/pricing',
    )!;
    expect(pricing.pageviews).toBe(pricingBefore.pageviews);
    expect((await freshDays(siteId, [day])).fresh.has(day)).toBe(false);
    // Recompacting picks the change up once it is quiet (a minute old); undo it for the tests below.
    expect(await compactDay(siteId, day)).toBe(0);
    await db.query(
      "UPDATE rollups SET updated_at = now() - interval '2 minutes' WHERE site_id = $1 AND granularity = 'day' AND bucket = $2 AND dimension = ''",
      [siteId, new Date(day)],
    );
    expect(await compactDay(siteId, day)).toBeGreaterThan(0);
    expect((await freshDays(siteId, [day])).fresh.has(day)).toBe(true);
    await db.query(
      `UPDATE rollups SET pageviews = pageviews - 1, updated_at = now() - interval '90 seconds'
        WHERE site_id = $1 AND granularity = 'day' AND bucket = $2 AND dimension IN ('', 'page') AND value IN ('', '/pricing') AND source_partition = 0`,
      [siteId, new Date(day)],
    );
  });
});

describe('the stats API', () => {
  it('7 days with the previous period, hourly today, and a bad range is a 400', async () => {
    const r = await http.json<StatsResult>(`/api/sites/${siteId}/stats?range=7d`);
    expect(r.status).toBe(200);
    expect(r.body.source).toBe('rollups');
    expect(r.body.range.interval).toBe('day');
    expect(r.body.series).toHaveLength(7);
    expect(r.body.summary.pageviews).toBe(
      inRange(addDays(today, -6), today).filter((e) => e.name === 'pageview').length,
    );
    expect(r.body.previousRange).toEqual({ from: addDays(today, -13), to: addDays(today, -7) });
    expect(r.body.previous!.pageviews).toBe(
      inRange(addDays(today, -13), addDays(today, -7)).filter((e) => e.name === 'pageview').length,
    );
    const t = await http.json<StatsResult>(`/api/sites/${siteId}/stats?range=today&compare=none`);
    expect(t.body.range.interval).toBe('hour');
    expect(t.body.previous).toBeNull();
    expect(t.body.series.some((p) => p.future)).toBe(localDate(now + 3_600_000, TZ) === today);
    expect((await http.json(`/api/sites/${siteId}/stats?range=custom&from=2020-01-01&to=2026-01-01`)).status).toBe(400);
    expect((await http.json(`/api/sites/${siteId}/stats?range=custom&from=2020-02-30&to=2020-03-01`)).status).toBe(400);
    expect((await http.json(`/api/sites/${siteId}/breakdown?range=7d&dimension=nope`)).status).toBe(400);
  });

  it('clicking a row filters the whole dashboard: the filtered totals equal the row', async () => {
    const pages = await http.json<BreakdownResult>(`/api/sites/${siteId}/breakdown?range=7d&dimension=page`);
    const pricing = pages.body.rows.find((r) => r.value === '/pricing')!;
    expect(pricing).toBeDefined();
    const filtered = await http.json<StatsResult>(`/api/sites/${siteId}/stats?range=7d&page=%2Fpricing`);
    expect(filtered.body.source).toBe('events');
    expect(filtered.body.summary.pageviews).toBe(pricing.pageviews);
    expect(Math.abs(filtered.body.summary.visitors - pricing.visitors!)).toBeLessThanOrEqual(
      Math.max(2, pricing.visitors! * 0.03),
    );
    // …and the other tables follow the filter.
    const countries = await http.json<BreakdownResult>(
      `/api/sites/${siteId}/breakdown?range=7d&dimension=country&page=%2Fpricing`,
    );
    expect(countries.body.rows.reduce((n, r) => n + (r.pageviews ?? 0), 0)).toBe(pricing.pageviews);
    const onlyPricing = await http.json<BreakdownResult>(
      `/api/sites/${siteId}/breakdown?range=7d&dimension=page&page=%2Fpricing`,
    );
    expect(onlyPricing.body.rows.map((r) => r.value)).toEqual(['/pricing']);
    // A visit dimension: the filtered visits equal the row's visits.
    const channels = await http.json<BreakdownResult>(`/api/sites/${siteId}/breakdown?range=7d&dimension=channel`);
    const search = channels.body.rows.find((r) => r.value === 'search')!;
    const bySearch = await http.json<StatsResult>(`/api/sites/${siteId}/stats?range=7d&channel=search`);
    expect(bySearch.body.summary.sessions).toBe(search.sessions);
    expect(bySearch.body.summary.pageviews).toBe(search.pageviews);
  });

  it('exports a table as CSV with the same range and filters', async () => {
    const res = await http.fetch(`/api/sites/${siteId}/export?range=7d&dimension=entry_page`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(
      /attachment; filename="eddy-shop\.example-entry_page-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv"/,
    );
    const lines = (await res.text()).trim().split('\r\n');
    expect(lines[0]).toBe('Entry page,Visits,Bounce rate,Avg. visit duration (s)');
    const api = await http.json<BreakdownResult>(
      `/api/sites/${siteId}/breakdown?range=7d&dimension=entry_page&limit=100`,
    );
    expect(lines).toHaveLength(api.body.rows.length + 1);
    expect(lines[1]!.split(',')[0]).toBe(api.body.rows[0]!.value);
  });

  it('peaks of a day come from peak_windows, whole site first', async () => {
    const day = days[0]!;
    await db.query(
      `INSERT INTO peak_windows (site_id, day, content_group, window_size_minutes, window_start, window_end, pageviews, visitors)
       VALUES ($1, $2, '', 60, $3, $4, 40, 30), ($1, $2, 'Blog', 60, $5, $6, 12, 9)`,
      [
        siteId,
        day,
        new Date(now - 86_400_000),
        new Date(now - 86_400_000 + 3_600_000),
        new Date(now - 80_000_000),
        new Date(now - 80_000_000 + 3_600_000),
      ],
    );
    const r = await http.json<{ day: string; windows: { contentGroup: string; pageviews: number }[] }>(
      `/api/sites/${siteId}/peaks?day=${day}`,
    );
    expect(r.body.windows.map((w) => [w.contentGroup, w.pageviews])).toEqual([
      ['', 40],
      ['Blog', 12],
    ]);
  });
});
