// Benchmark of the dashboard's history queries (`npm run bench -- dashboard-query`): one site,
// 30 days of traffic ≥ 10 million pageviews (plus the 30 days before, for the comparison),
// stored as the workers store it — rollup rows per day, dimension value and source partition,
// with real HyperLogLog visitor sketches — and queried the way one dashboard load does:
// summary + series + previous period, the twelve breakdown tables, the day's peaks.
//
// Baseline, in the same run: the same dashboard computed from raw events (the engine filtered
// views use) on a one-day sample of the same traffic, against the rollups for that same day;
// and its 30-day cost extrapolated linearly from the sample.
//
// Flags: --days-scale <0..1> seeds fewer pageviews (quick runs; the last line then says so),
//        --rounds <n> query rounds (default 15), --keep keeps the database (for EXPLAIN),
//        --filtered / --no-filtered, --filtered-rounds <n> (default 10): filtered loads — today's
//        raw-events engine, the Umami peer (bench/support/umami-peer.ts) and the facts engine;
//        --peer-rounds <n> (default 3) rounds of the slow sides (PostgreSQL facts, the Umami peer).
// Human-readable lines first; the last line is one JSON object.

import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { DIMENSIONS, eventFilterOf, type Dimension } from '@/lib/analytics/dimensions';
import { eventBreakdown, eventSeries } from '@/lib/analytics/event-engine';
import { sitePeaks } from '@/lib/analytics/peaks';
import { resolveRange, type Period } from '@/lib/analytics/range';
import { compactDay, SETTLED_AFTER_MS } from '@/lib/analytics/day-cache';
import { rollupBreakdown, rollupSeries } from '@/lib/analytics/rollup-engine';
import { siteBreakdown, siteStats, type StatsSite } from '@/lib/analytics/stats';
import { addDays, localDate, zonedMidnight } from '@/lib/analytics/time-zone';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { HyperLogLog } from '@/lib/stream';
import { backfillFacts } from '@/lib/analytics/fact-backfill';
import { factLoad } from '@/lib/analytics/fact-engine';
import { closeColumnar, columnarStore } from '@/lib/analytics/columnar/engine';
import type { Filters } from '@/lib/analytics/dimensions';
import { benchServices, freshBenchDatabase } from './support/services';
import { loadUmami, umamiLoad } from './support/umami-peer';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

const SCALE = arg('days-scale', 1);
// Filtered loads need every day's raw events and visits (the old engine, the Umami peer and the facts):
// on by default up to 1 M events (seeding 60 days of archive at full scale, 21 M events, takes hours
// here); `--filtered` forces them, `--no-filtered` skips them.
const FILTERED = !process.argv.includes('--no-filtered') && (process.argv.includes('--filtered') || SCALE <= 0.1);
const ROUNDS = arg('rounds', 15);
const DAYS = 30;
const PAGEVIEWS_PER_DAY = Math.round(350_000 * SCALE);
const PARTITIONS = 6;
const TZ = 'UTC';
const VISITOR_POOL = 3_000_000;

// ---- synthetic traffic -------------------------------------------------------------------------

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

/** Zipf-like sampler over n values (rank 1 most frequent). */
function zipf(n: number, s: number, rnd: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cdf[i] = total += 1 / (i + 1) ** s;
  return () => {
    const x = rnd() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const CHANNELS = ['direct', 'search', 'social', 'email', 'paid', 'ai', 'referral'];
const DEVICES = ['desktop', 'mobile', 'tablet', 'other'];

interface Cell {
  dimension: string;
  value: string;
  partition: number;
  pageviews: number;
  sessions: number;
  bounces: number;
  durationMs: number;
  visitors: HyperLogLog | null;
}

interface RawEvent {
  /** Absent: a pageview. */
  name?: string;
  props?: Record<string, string>;
  visitorId: string;
  ts: number;
  path: string;
  referrerHost: string | undefined;
  channel: string;
  utm: { source?: string; medium?: string; campaign?: string } | undefined;
  country: string;
  device: string;
  browser: string;
  os: string;
}

/** One day of traffic as rollup cells (day granularity), and optionally its raw events. */
interface RawVisit {
  visitorId: string;
  start: number;
  end: number;
  pageviews: number;
  entry: string;
  exit: string;
  first: RawEvent;
}

function simulateDay(
  day: number,
  dayStart: number,
  keepRaw: boolean,
): { cells: Cell[]; pageviews: number; raw: RawEvent[]; visits: RawVisit[] } {
  const rnd = prng(1000 + day);
  const page = zipf(1000, 1.1, rnd);
  const referrer = zipf(200, 1.2, rnd);
  const country = zipf(120, 1.3, rnd);
  const browser = zipf(20, 1.5, rnd);
  const os = zipf(15, 1.5, rnd);
  const campaign = zipf(50, 1.2, rnd);
  const cells = new Map<string, Cell>();
  const cell = (dimension: string, value: string, partition: number): Cell => {
    const k = `${dimension}\u0000${value}\u0000${partition}`;
    let c = cells.get(k);
    if (!c)
      cells.set(
        k,
        (c = { dimension, value, partition, pageviews: 0, sessions: 0, bounces: 0, durationMs: 0, visitors: null }),
      );
    return c;
  };
  const raw: RawEvent[] = [];
  const visits: RawVisit[] = [];
  let pageviews = 0;
  while (pageviews < PAGEVIEWS_PER_DAY) {
    // Returning visitors: ids skewed towards the start of the pool.
    const id = Math.floor(rnd() ** 1.6 * VISITOR_POOL);
    const visitorId = `v${id}`;
    const partition = id % PARTITIONS;
    const ch = CHANNELS[Math.min(CHANNELS.length - 1, Math.floor(rnd() ** 1.8 * CHANNELS.length))]!;
    const ref = ch === 'direct' ? '(direct)' : `ref${referrer()}.example`;
    const utm =
      rnd() < 0.15
        ? {
            source: `src${Math.floor(rnd() * 30)}`,
            medium: ['email', 'cpc', 'social', 'banner'][Math.floor(rnd() * 4)]!,
            campaign: `camp${campaign()}`,
          }
        : undefined;
    const attrs: [string, string][] = [
      ['referrer', ref],
      ['channel', ch],
      ['country', `C${country()}`],
      ['device', DEVICES[Math.floor(rnd() ** 1.5 * DEVICES.length)]!],
      ['browser', `Browser ${browser()}`],
      ['os', `OS ${os()}`],
    ];
    if (utm) attrs.push(['utm_source', utm.source], ['utm_medium', utm.medium], ['utm_campaign', utm.campaign]);
    let k = 1;
    while (k < 12 && rnd() < 0.62) k++;
    const start = dayStart + Math.floor(rnd() * 84_000_000);
    const paths: string[] = [];
    for (let i = 0; i < k; i++) paths.push(`/p/${page()}`);
    const duration = (k - 1) * (20_000 + Math.floor(rnd() * 120_000));
    const bounce = k === 1 && rnd() < 0.85;
    // Event dimensions: pageviews and visitors.
    for (const d of [['', ''] as [string, string], ...attrs]) {
      const c = cell(d[0], d[1], partition);
      c.pageviews += k;
      (c.visitors ??= new HyperLogLog(14)).add(visitorId);
    }
    for (const p of paths) {
      const c = cell('page', p, partition);
      c.pageviews++;
      (c.visitors ??= new HyperLogLog(14)).add(visitorId);
    }
    // Visit dimensions: sessions, bounces, duration.
    for (const [d, v] of [
      ['', ''] as [string, string],
      ['entry_page', paths[0]!] as [string, string],
      ['exit_page', paths[k - 1]!] as [string, string],
      ...attrs,
    ]) {
      const c = cell(d, v, partition);
      c.sessions++;
      c.bounces += bounce ? 1 : 0;
      c.durationMs += duration;
    }
    if (keepRaw) {
      const firstIndex = raw.length;
      for (let i = 0; i < k; i++) {
        raw.push({
          visitorId,
          ts: start + Math.round((i * duration) / Math.max(1, k - 1)),
          path: paths[i]!,
          referrerHost: i === 0 && ref !== '(direct)' ? ref : undefined,
          channel: ch,
          utm,
          country: attrs[2]![1],
          device: attrs[3]![1],
          browser: attrs[4]![1],
          os: attrs[5]![1],
        });
      }
      // 3 % of visits sign up at their last page: a custom event with a property, for the
      // event-filter case (custom_event=Signup, event_prop=plan:pro). Not a pageview.
      if (rnd() < 0.03)
        raw.push({
          ...raw[raw.length - 1]!,
          name: 'Signup',
          props: { plan: rnd() < 0.3 ? 'pro' : 'free' },
          referrerHost: undefined,
        });
      visits.push({
        visitorId,
        start,
        end: start + duration,
        pageviews: k,
        entry: paths[0]!,
        exit: paths[k - 1]!,
        first: raw[firstIndex]!,
      });
    }
    pageviews += k;
  }
  return { cells: [...cells.values()], pageviews, raw, visits };
}

async function insertCells(db: pg.Pool, siteId: string, bucket: number, cells: Cell[]): Promise<void> {
  for (let i = 0; i < cells.length; i += 4000) {
    const chunk = cells.slice(i, i + 4000);
    await db.query(
      `INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, pageviews, events, visitors, sessions, bounces, duration_ms, updated_at)
       SELECT $1, 'day', $2, u.d, u.v, u.p, u.pv, 0, u.vis, u.s, u.b, u.du, least(now(), $2::timestamptz + interval '1 day')
         FROM unnest($3::text[], $4::text[], $5::int[], $6::int[], $7::jsonb[], $8::int[], $9::int[], $10::bigint[]) AS u(d, v, p, pv, vis, s, b, du)`,
      [
        siteId,
        new Date(bucket).toISOString(),
        chunk.map((c) => c.dimension),
        chunk.map((c) => c.value),
        chunk.map((c) => c.partition),
        chunk.map((c) => c.pageviews),
        chunk.map((c) => (c.visitors ? JSON.stringify(c.visitors.toJSON()) : null)),
        chunk.map((c) => c.sessions),
        chunk.map((c) => c.bounces),
        chunk.map((c) => c.durationMs),
      ],
    );
  }
}

async function insertVisits(db: pg.Pool, siteId: string, visits: RawVisit[]): Promise<void> {
  for (let i = 0; i < visits.length; i += 5000) {
    const chunk = visits.slice(i, i + 5000);
    await db.query(
      `INSERT INTO sessions (site_id, visitor_id, started_at, ended_at, duration_ms, pageviews, events, engaged_ms, entry_path, exit_path, bounce, channel,
         referrer_host, utm_source, utm_medium, utm_campaign, device, browser, os, country, source_partition)
       SELECT $1, u.visitor, u.started, u.ended, u.dur, u.pv, 0, 0, u.entry, u.exit, u.pv <= 1, u.channel, u.ref, u.us, u.um, u.uc, u.device, u.browser, u.os, u.country, 0
         FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::int[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                     $14::text[], $15::text[], $16::text[], $17::text[])
           AS u(visitor, started, ended, dur, pv, entry, exit, channel, ref, us, um, uc, device, browser, os, country)
       ON CONFLICT DO NOTHING`,
      [
        siteId,
        chunk.map((v) => v.visitorId),
        chunk.map((v) => new Date(v.start).toISOString()),
        chunk.map((v) => new Date(v.end).toISOString()),
        chunk.map((v) => v.end - v.start),
        chunk.map((v) => v.pageviews),
        chunk.map((v) => v.entry),
        chunk.map((v) => v.exit),
        chunk.map((v) => v.first.channel),
        chunk.map((v) => v.first.referrerHost ?? null),
        chunk.map((v) => v.first.utm?.source ?? null),
        chunk.map((v) => v.first.utm?.medium ?? null),
        chunk.map((v) => v.first.utm?.campaign ?? null),
        chunk.map((v) => v.first.device),
        chunk.map((v) => v.first.browser),
        chunk.map((v) => v.first.os),
        chunk.map((v) => v.first.country),
      ],
    );
  }
}

async function insertRaw(db: pg.Pool, siteId: string, raw: RawEvent[]): Promise<void> {
  for (let i = 0; i < raw.length; i += 5000) {
    const chunk = raw.slice(i, i + 5000);
    await db.query(
      `INSERT INTO events (event_id, site_id, visitor_id, name, url, ts, record)
       SELECT gen_random_uuid(), $1, u.visitor, u.record->>'name', u.url, u.ts, u.record
         FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::jsonb[]) AS u(visitor, url, ts, record)`,
      [
        siteId,
        chunk.map((e) => e.visitorId),
        chunk.map((e) => `https://big.example${e.path}`),
        chunk.map((e) => new Date(e.ts).toISOString()),
        chunk.map((e) =>
          JSON.stringify({
            v: 1,
            siteId,
            visitorId: e.visitorId,
            name: e.name ?? 'pageview',
            props: e.props,
            url: `https://big.example${e.path}`,
            path: e.path,
            referrerHost: e.referrerHost,
            channel: e.channel,
            utm: e.utm,
            country: e.country,
            device: e.device,
            browser: e.browser,
            os: e.os,
            ts: e.ts,
          }),
        ),
      ],
    );
  }
}

// ---- measurement -------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

async function main(): Promise<void> {
  const services = await benchServices({ kafka: false });
  const bench = await freshBenchDatabase(services.adminUrl, 'dashq');
  setEnv({ DATABASE_URL: bench.url });
  const db = new pg.Pool({ connectionString: bench.url, max: 4 });
  try {
    const team = await db.query<{ id: string }>(
      "INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'Bench') RETURNING id",
    );
    const site = await db.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames, timezone) VALUES (gen_random_uuid(), $1, 'Big site', 'big.example', 's_bench', '{}', $2) RETURNING id",
      [team.rows[0]!.id, TZ],
    );
    const siteId = site.rows[0]!.id;
    const now = Date.now();
    const today = localDate(now, TZ);
    // The 30-day range is today-29 … today; today is a partial day (we seed 30 full days ending
    // yesterday plus today, so the range holds 30 days of traffic).
    const rangeDays = Array.from({ length: DAYS }, (_, i) => addDays(today, -DAYS + 1 + i));
    const sampleDay = addDays(today, -1);

    console.log(
      `[bench] seeding ${DAYS} days × ${PAGEVIEWS_PER_DAY.toLocaleString('en-US')} pageviews (${PARTITIONS} source partitions, real visitor sketches)…`,
    );
    const seedStart = performance.now();
    let events = 0;
    let rows = 0;
    let rawEvents: RawEvent[] = [];
    for (let i = 0; i < rangeDays.length; i++) {
      const day = rangeDays[i]!;
      const { cells, pageviews, raw, visits } = simulateDay(i, zonedMidnight(day, TZ), FILTERED || day === sampleDay);
      await insertCells(db, siteId, zonedMidnight(day, TZ), cells);
      if (day === sampleDay) rawEvents = raw;
      if (FILTERED) {
        await insertRaw(db, siteId, raw);
        await insertVisits(db, siteId, visits);
      }
      events += pageviews;
      rows += cells.length;
      if (i % 5 === 4)
        console.log(
          `[bench]   ${i + 1}/${DAYS} days, ${events.toLocaleString('en-US')} pageviews, ${rows.toLocaleString('en-US')} rollup rows (${((performance.now() - seedStart) / 1000).toFixed(0)} s)`,
        );
    }
    // The previous period (for the comparison) repeats the same traffic 30 days earlier.
    await db.query(
      `INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, pageviews, events, visitors, sessions, bounces, duration_ms, updated_at)
       SELECT site_id, granularity, bucket - interval '${DAYS} days', dimension, value, source_partition, pageviews, events, visitors, sessions, bounces, duration_ms, updated_at - interval '${DAYS} days'
         FROM rollups WHERE site_id = $1`,
      [siteId],
    );
    await db.query(
      `INSERT INTO peak_windows (site_id, day, content_group, window_size_minutes, window_start, window_end, pageviews, visitors)
       SELECT $1, d::date, g, w, d + interval '14 hours', d + interval '14 hours' + make_interval(mins => w), 5000, 3000
         FROM generate_series($2::date, $3::date, interval '1 day') d, unnest(ARRAY['', 'Blog', 'Docs']) g, unnest(ARRAY[5, 60]) w`,
      [siteId, addDays(today, -2 * DAYS), today],
    );
    console.log(
      `[bench] raw-event sample for the baseline: ${rawEvents.length.toLocaleString('en-US')} events of ${sampleDay}`,
    );
    if (FILTERED) {
      // The previous period's raw events and visits repeat the same traffic 30 days earlier, as its rollups do.
      await db.query(
        `INSERT INTO events (event_id, site_id, visitor_id, name, url, ts, record)
         SELECT gen_random_uuid(), site_id, visitor_id, name, url, ts - interval '${DAYS} days', record FROM events WHERE site_id = $1`,
        [siteId],
      );
      await db.query(
        `INSERT INTO sessions (site_id, visitor_id, started_at, ended_at, duration_ms, pageviews, events, engaged_ms, entry_path, exit_path, bounce, channel,
           referrer_host, utm_source, utm_medium, utm_campaign, device, browser, os, country, source_partition)
         SELECT site_id, visitor_id, started_at - interval '${DAYS} days', ended_at - interval '${DAYS} days', duration_ms, pageviews, events, engaged_ms, entry_path, exit_path, bounce,
                channel, referrer_host, utm_source, utm_medium, utm_campaign, device, browser, os, country, source_partition
           FROM sessions WHERE site_id = $1 ON CONFLICT DO NOTHING`,
        [siteId],
      );
      const t = performance.now();
      await backfillFacts(db, siteId);
      console.log(
        `[bench] facts written for ${(await db.query<{ n: string }>('SELECT count(*) AS n FROM event_facts')).rows[0]!.n} events and ${(await db.query<{ n: string }>('SELECT count(*) AS n FROM visit_facts')).rows[0]!.n} visits in ${((performance.now() - t) / 1000).toFixed(0)} s (lib/analytics/fact-backfill.ts)`,
      );
      const u = performance.now();
      await loadUmami(db, siteId);
      console.log(
        `[bench] Umami peer schema (umami_website_event + umami_session) loaded in ${((performance.now() - u) / 1000).toFixed(0)} s`,
      );
      await db.query('VACUUM ANALYZE event_facts');
      await db.query('VACUUM ANALYZE visit_facts');
      await db.query('VACUUM ANALYZE dimension_values');
      await db.query('VACUUM ANALYZE umami_website_event');
      await db.query('VACUUM ANALYZE umami_session');
    } else {
      await insertRaw(db, siteId, rawEvents);
    }
    await db.query('VACUUM ANALYZE rollups');
    await db.query('VACUUM ANALYZE events');
    const size = await db.query<{ rows: string; bytes: string }>(
      "SELECT count(*) AS rows, pg_size_pretty(pg_total_relation_size('rollups')) AS bytes FROM rollups",
    );
    console.log(
      `[bench] seeded in ${((performance.now() - seedStart) / 1000).toFixed(0)} s: ${events.toLocaleString('en-US')} pageviews in the 30-day range; rollups table ${Number(size.rows[0]!.rows).toLocaleString('en-US')} rows, ${size.rows[0]!.bytes}`,
    );

    // ---- compaction of settled days (the web process does this in the background) ----
    const settledDays: number[] = [];
    for (let d = addDays(today, -2 * DAYS); d < today; d = addDays(d, 1)) {
      if (zonedMidnight(addDays(d, 1), TZ) + SETTLED_AFTER_MS <= now) settledDays.push(zonedMidnight(d, TZ));
    }
    const compactStart = performance.now();
    for (const d of settledDays) await compactDay(siteId, d);
    const compactMs = performance.now() - compactStart;
    await db.query('VACUUM ANALYZE rollup_days');
    await db.query('VACUUM ANALYZE rollup_day_sketches');
    console.log(
      `[bench] compacted ${settledDays.length} settled days in ${(compactMs / 1000).toFixed(1)} s (${(compactMs / settledDays.length).toFixed(0)} ms per day of ${PAGEVIEWS_PER_DAY.toLocaleString('en-US')} pageviews); today stays on the live rollups`,
    );

    // ---- the dashboard's queries, 30 days ----
    const s: StatsSite = { id: siteId, timezone: TZ, sessionGapMinutes: 30 };
    const q = { range: '30d' as const, compare: 'previous' as const };
    const queries: [string, () => Promise<unknown>][] = [
      ['stats (summary, series, previous period)', () => siteStats(s, q, now)],
      ...DIMENSIONS.map((d): [string, () => Promise<unknown>] => [
        `breakdown ${d}`,
        () => siteBreakdown(s, q, d, 10, now),
      ]),
      ['peaks', () => sitePeaks(s, {}, now)],
    ];
    for (const [, fn] of queries) await fn(); // warm-up: plans, connections, JIT
    const all: number[] = [];
    const per = new Map<string, number[]>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, fn] of queries) {
        const [t] = await timed(fn);
        all.push(t);
        per.set(name, [...(per.get(name) ?? []), t]);
      }
    }
    all.sort((a, b) => a - b);
    console.log(`\n[bench] 30-day dashboard queries on the rollups, ${ROUNDS} rounds × ${queries.length} queries:`);
    for (const [name, ts] of per) {
      const sorted = [...ts].sort((a, b) => a - b);
      console.log(
        `  ${name.padEnd(42)} p50 ${ms(percentile(sorted, 50)).padStart(9)}   p95 ${ms(percentile(sorted, 95)).padStart(9)}`,
      );
    }
    const p50 = percentile(all, 50);
    const p95 = percentile(all, 95);
    const dashboardLoad = [...per.values()].reduce(
      (n, ts) =>
        n +
        percentile(
          [...ts].sort((a, b) => a - b),
          50,
        ),
      0,
    );
    console.log(
      `  all: p50 ${ms(p50)}, p95 ${ms(p95)}; a whole dashboard load (sum of medians, sequential) ${ms(dashboardLoad)}`,
    );

    // ---- the same queries without the compacted days (every day from the workers' rows) ----
    const month30 = resolveRange({ range: '30d', compare: 'previous' }, TZ, now);
    const uncached: [string, () => Promise<unknown>][] = [
      [
        'stats',
        async () =>
          Promise.all([
            rollupSeries(siteId, month30, TZ, now, { useCache: false }),
            rollupSeries(siteId, month30.previous, TZ, now, { useCache: false }),
          ]),
      ],
      ...DIMENSIONS.map((d): [string, () => Promise<unknown>] => [
        d,
        () => rollupBreakdown(siteId, month30, TZ, d, 10, now, { useCache: false }),
      ]),
    ];
    const direct: number[] = [];
    for (let r = 0; r < Math.min(3, ROUNDS); r++) for (const [, fn] of uncached) direct.push((await timed(fn))[0]);
    direct.sort((x, y) => x - y);
    console.log(
      `  without the compacted days (straight from the per-partition rollups): p50 ${ms(percentile(direct, 50))}, p95 ${ms(percentile(direct, 95))}`,
    );

    // ---- baseline: raw events, one-day sample ----
    // The sample day as one daily point (the dashboard draws a single day hourly, from hour rows,
    // which this benchmark does not seed).
    const dayStart = zonedMidnight(sampleDay, TZ);
    const dayEnd = zonedMidnight(today, TZ);
    const day: Period = {
      from: sampleDay,
      to: sampleDay,
      start: dayStart,
      end: dayEnd,
      points: [{ start: dayStart, end: dayEnd, label: sampleDay }],
    };
    const month = resolveRange({ range: '30d', compare: 'none' }, TZ, now);
    const baselineDims: Dimension[] = ['page', 'country'];
    // One composition on both sides: summary + series and two breakdown tables.
    const onRollups = (r: Period) => async () => {
      await rollupSeries(siteId, r, TZ, now);
      for (const d of baselineDims) await rollupBreakdown(siteId, r, TZ, d, 10, now);
    };
    const onRawEvents = (r: Period) => async () => {
      await eventSeries(siteId, r, 30, {}, now);
      for (const d of baselineDims) await eventBreakdown(siteId, r, 30, {}, d, 10);
    };
    const median = async (fn: () => Promise<void>, n: number) => {
      const ts: number[] = [];
      for (let i = 0; i < n; i++) ts.push((await timed(fn))[0]);
      return percentile(
        ts.sort((x, y) => x - y),
        50,
      );
    };
    await onRollups(day)();
    const rollupMs = await median(onRollups(day), 5);
    const rollupMonthMs = await median(onRollups(month), 5);
    const rawMs = await median(onRawEvents(day), 3);
    const [check1, check2] = [await rollupSeries(siteId, day, TZ, now), await eventSeries(siteId, day, 30, {}, now)];
    const extrapolated = rawMs * DAYS;
    const ratioDay = rawMs / rollupMs;
    const ratio30 = extrapolated / rollupMonthMs;
    console.log(
      `\n[bench] baseline, ${sampleDay} (${rawEvents.length.toLocaleString('en-US')} events): summary + series + 2 breakdowns`,
    );
    console.log(
      `  rollups ${ms(rollupMs)}  vs  raw events ${ms(rawMs)}  →  ${ratioDay.toFixed(0)}× faster (pageviews ${check1.summary.pageviews} = ${check2.summary.pageviews})`,
    );
    console.log(
      `  30 days: rollups ${ms(rollupMonthMs)}  vs  raw events ~${(extrapolated / 1000).toFixed(1)} s (extrapolated linearly from the sample)  →  ~${ratio30.toFixed(0)}× faster`,
    );
    console.log(`  goal p95 ≤ 100 ms: ${p95 <= 100 ? 'met' : 'NOT met'}`);

    // ---- filtered loads: today's engine, the Umami peer, the facts engine ----
    const filtered = FILTERED ? await filteredLoads(db, s, now, month30, day, sampleDay) : null;
    console.log(
      JSON.stringify({
        bench: 'dashboard-query',
        p50_ms: Number(p50.toFixed(1)),
        p95_ms: Number(p95.toFixed(1)),
        events,
        rollup_rows: Number(size.rows[0]!.rows),
        queries: all.length,
        baseline_day_raw_ms: Number(rawMs.toFixed(0)),
        baseline_day_rollup_ms: Number(rollupMs.toFixed(1)),
        baseline_ratio_day: Number(ratioDay.toFixed(0)),
        baseline_ratio_30d_extrapolated: Number(ratio30.toFixed(0)),
        uncompacted_p50_ms: Number(percentile(direct, 50).toFixed(1)),
        uncompacted_p95_ms: Number(percentile(direct, 95).toFixed(1)),
        compaction_ms_per_day: Number((compactMs / settledDays.length).toFixed(0)),
        ...(filtered ?? {}),
        ...(SCALE !== 1 ? { scale: SCALE } : {}),
      }),
    );
  } finally {
    await db.end();
    await closeColumnar();
    await closeDb();
    if (process.argv.includes('--keep')) console.error(`[bench] kept ${bench.url}`);
    else await bench.drop();
    await services.stop();
  }
}

const FILTER_CASES: [string, Filters][] = [
  ['country = C0', { country: 'C0' }],
  ['page = /p/0', { page: '/p/0' }],
  ['referrer = ref0.example', { referrer: 'ref0.example' }],
  ['country = C1 + page = /p/1', { country: 'C1', page: '/p/1' }],
  ['custom event Signup with plan = pro', { custom_event: 'Signup', event_prop: 'plan:pro' }],
];
const FILTERED_ROUNDS = arg('filtered-rounds', 10);
/** Rounds of the slow sides (PostgreSQL facts, the Umami peer): each load takes seconds, minutes at 10.5 M. */
const PEER_ROUNDS = arg('peer-rounds', 3);

async function filteredLoads(
  db: pg.Pool,
  s: StatsSite,
  now: number,
  month: ReturnType<typeof resolveRange>,
  day: Period,
  sampleDay: string,
): Promise<Record<string, number>> {
  const q = { range: '30d' as const, compare: 'previous' as const };
  const wholeNew: number[] = [];
  const wholeRoutes: number[] = [];
  const wholeUmami: number[] = [];
  const wholeOld: number[] = [];
  const perQuery = new Map<string, number[]>();
  const note = (name: string, t: number) => perQuery.set(name, [...(perQuery.get(name) ?? []), t]);
  const stat = (ts: number[]) => {
    const x = [...ts].sort((a, b) => a - b);
    return `p50 ${ms(percentile(x, 50)).padStart(9)}   p95 ${ms(percentile(x, 95)).padStart(9)}`;
  };
  const dayBefore: Period = {
    ...day,
    from: addDays(sampleDay, -1),
    to: addDays(sampleDay, -1),
    start: day.start - 86_400_000,
    end: day.end - 86_400_000,
    points: day.points.map((pt) => ({ ...pt, start: pt.start - 86_400_000, end: pt.end - 86_400_000 })),
  };
  // The columnar copy (lib/analytics/columnar/): loaded once from the fact tables, as a web process does at start.
  setEnv({ FILTER_ENGINE: 'columnar' });
  const store = columnarStore()!;
  const tl = performance.now();
  await store.start();
  const loadMs = performance.now() - tl;
  const copied = store.stats.loaded!;
  console.log(
    `\n[bench] columnar copy loaded in ${(loadMs / 1000).toFixed(1)} s: ${copied.events.toLocaleString('en-US')} event facts, ${copied.visits.toLocaleString('en-US')} visit facts (${Math.round((copied.events + copied.visits) / (loadMs / 1000)).toLocaleString('en-US')} rows/s)`,
  );
  const memory = await store.memoryBytes();
  console.log(
    `[bench] the copy holds ${(memory / 1048576).toFixed(0)} MiB (${(memory / (copied.events + copied.visits)).toFixed(0)} bytes per fact row)`,
  );
  const syncs: number[] = [];
  for (let i = 0; i < 20; i++) syncs.push((await timed(() => store.fresh()))[0]);
  console.log(`[bench] a sync with nothing new (what every filtered load waits for first): ${stat(syncs)}`);
  const wholePg: number[] = [];
  for (const [label, filters] of FILTER_CASES) {
    console.log(`\n[bench] filtered 30-day dashboard, ${label}:`);
    // The facts engine, one pass: totals + series + 12 breakdowns of the range, totals + series of the previous period.
    const onePass = async () => {
      await Promise.all([
        factLoad(s.id, month, filters, { series: true, breakdowns: [...DIMENSIONS], limit: 10, now }),
        factLoad(s.id, month.previous, filters, { series: true, breakdowns: [], limit: 0, now }),
      ]);
    };
    // The facts engine through the functions the route handlers call (stats + one call per table), in sequence.
    const routes = async () => {
      let t = performance.now();
      await siteStats(s, { ...q, ...filters }, now);
      note(`facts: stats (summary, series, previous)`, performance.now() - t);
      for (const d of DIMENSIONS) {
        t = performance.now();
        await siteBreakdown(s, { ...q, ...filters }, d, 10, now);
        note(`facts: breakdown ${d}`, performance.now() - t);
      }
    };
    await onePass();
    await routes();
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < FILTERED_ROUNDS; r++) {
      a.push((await timed(onePass))[0]);
      b.push((await timed(routes))[0]);
    }
    wholeNew.push(...a);
    wholeRoutes.push(...b);
    const declinedBefore = store.stats.declined;
    console.log(
      `  columnar copy (DuckDB), whole load in one pass (2 × 2 statements, current ∥ previous)  ${stat(a)}   (${FILTERED_ROUNDS} rounds)`,
    );
    console.log(`  columnar copy, whole load as stats + 12 breakdown calls, sequential                    ${stat(b)}`);
    // The same facts in PostgreSQL (the engine before the copy, and what answers while it loads).
    const columnarAnswer = await factLoad(s.id, month, filters, {
      series: true,
      breakdowns: [...DIMENSIONS],
      limit: 10,
      now,
    });
    setEnv({ FILTER_ENGINE: 'postgres' });
    const pgAnswer = await factLoad(s.id, month, filters, {
      series: true,
      breakdowns: [...DIMENSIONS],
      limit: 10,
      now,
    });
    const c: number[] = [];
    for (let r = 0; r < Math.min(PEER_ROUNDS, FILTERED_ROUNDS); r++) c.push((await timed(onePass))[0]);
    setEnv({ FILTER_ENGINE: 'columnar' });
    wholePg.push(...c);
    console.log(`  PostgreSQL facts (fact tables, same statements), whole load in one pass                ${stat(c)}`);
    if (JSON.stringify(columnarAnswer) !== JSON.stringify(pgAnswer))
      throw new Error(`columnar copy and PostgreSQL facts answer differently for ${label}`);
    if (store.stats.declined !== declinedBefore) throw new Error('the columnar copy declined a load');
    console.log('  columnar and PostgreSQL answers: identical (totals, series, 12 breakdowns)');
    // The event filters: neither the Umami peer here (its event_data table is not modelled) nor
    // today's raw-events engine (it refuses them) has them; the facts engines are compared above.
    if (eventFilterOf(filters)) {
      console.log("  Umami peer and today's engine: no event-property filter (not compared)");
    } else {
      // The Umami peer.
      const u: number[] = [];
      let uq = new Map<string, number>();
      for (let r = 0; r < Math.min(PEER_ROUNDS, FILTERED_ROUNDS); r++) {
        const t = performance.now();
        uq = await umamiLoad(db, s.id, month, month.previous, filters);
        u.push(performance.now() - t);
        for (const [k, v] of uq) note(`umami: ${k}`, v);
      }
      wholeUmami.push(...u);
      console.log(`  Umami peer (PostgreSQL schema and query shapes), whole load, 17 queries         ${stat(u)}`);
      // Today's engine: sessions rebuilt from the raw events; one day (its 30 days would pass the 20 s cut-off), extrapolated ×30.
      const t0 = performance.now();
      await Promise.all([eventSeries(s.id, day, 30, filters, now), eventSeries(s.id, dayBefore, 30, filters, now)]);
      for (const d of DIMENSIONS) await eventBreakdown(s.id, day, 30, filters, d, 10);
      const oldDay = performance.now() - t0;
      wholeOld.push(oldDay * DAYS);
      console.log(
        `  today's engine (raw events), whole load of ONE day ${ms(oldDay)} → 30 days ~${((oldDay * DAYS) / 1000).toFixed(1)} s (linear; each query passes the 20 s cut-off)`,
      );
    }
    // Correctness at scale: the one-pass totals equal the per-route totals.
    const [one, viaRoutes] = await Promise.all([
      factLoad(s.id, month, filters, { series: true, breakdowns: [], limit: 0, now }),
      siteStats(s, { ...q, ...filters }, now),
    ]);
    if (one.summary.pageviews !== viaRoutes.summary.pageviews || one.summary.sessions !== viaRoutes.summary.sessions)
      throw new Error('facts engine: one-pass and per-route totals differ');
    console.log(
      `  filtered totals: ${one.summary.pageviews} pageviews, ${one.summary.sessions} visits, ${one.summary.visitors} visitors`,
    );
  }
  console.log(`\n[bench] per query over all filter cases:`);
  for (const [name, ts] of perQuery) console.log(`  ${name.padEnd(48)} ${stat(ts)}`);
  const sorted = (x: number[]) => [...x].sort((p, q) => p - q);
  const p = (x: number[], k: number) => Number(percentile(sorted(x), k).toFixed(1));
  console.log(
    `[bench] filtered whole loads: columnar one pass p50 ${p(wholeNew, 50)} ms p95 ${p(wholeNew, 95)} ms; PostgreSQL facts one pass p50 ${p(wholePg, 50)} p95 ${p(wholePg, 95)}; columnar per route p50 ${p(wholeRoutes, 50)} p95 ${p(wholeRoutes, 95)}; Umami peer p50 ${p(wholeUmami, 50)} p95 ${p(wholeUmami, 95)}; today's engine ~${(p(wholeOld, 50) / 1000).toFixed(1)} s (extrapolated)`,
  );
  console.log(
    `  goal filtered p95 ≤ ${SCALE <= 0.1 ? 150 : 500} ms: ${p(wholeNew, 95) <= (SCALE <= 0.1 ? 150 : 500) ? 'met' : 'NOT met'}`,
  );
  return {
    filtered_p50_ms: p(wholeNew, 50),
    filtered_p95_ms: p(wholeNew, 95),
    filtered_pg_facts_p50_ms: p(wholePg, 50),
    filtered_pg_facts_p95_ms: p(wholePg, 95),
    columnar_load_ms: Math.round(loadMs),
    columnar_memory_mb: Math.round(memory / 1048576),
    columnar_sync_p50_ms: p(syncs, 50),
    filtered_routes_p50_ms: p(wholeRoutes, 50),
    filtered_routes_p95_ms: p(wholeRoutes, 95),
    filtered_umami_p50_ms: p(wholeUmami, 50),
    filtered_umami_p95_ms: p(wholeUmami, 95),
    filtered_old_30d_extrapolated_ms: Math.round(percentile(sorted(wholeOld), 50)),
  };
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
