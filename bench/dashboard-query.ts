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
//        --rounds <n> query rounds (default 15), --keep keeps the database (for EXPLAIN).
// Human-readable lines first; the last line is one JSON object.

import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { DIMENSIONS, type Dimension } from '@/lib/analytics/dimensions';
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
import { benchServices, freshBenchDatabase } from './support/services';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

const SCALE = arg('days-scale', 1);
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
function simulateDay(day: number, dayStart: number, keepRaw: boolean): { cells: Cell[]; pageviews: number; raw: RawEvent[] } {
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
    if (!c) cells.set(k, (c = { dimension, value, partition, pageviews: 0, sessions: 0, bounces: 0, durationMs: 0, visitors: null }));
    return c;
  };
  const raw: RawEvent[] = [];
  let pageviews = 0;
  while (pageviews < PAGEVIEWS_PER_DAY) {
    // Returning visitors: ids skewed towards the start of the pool.
    const id = Math.floor(rnd() ** 1.6 * VISITOR_POOL);
    const visitorId = `v${id}`;
    const partition = id % PARTITIONS;
    const ch = CHANNELS[Math.min(CHANNELS.length - 1, Math.floor(rnd() ** 1.8 * CHANNELS.length))]!;
    const ref = ch === 'direct' ? '(direct)' : `ref${referrer()}.example`;
    const utm = rnd() < 0.15 ? { source: `src${Math.floor(rnd() * 30)}`, medium: ['email', 'cpc', 'social', 'banner'][Math.floor(rnd() * 4)]!, campaign: `camp${campaign()}` } : undefined;
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
    for (const [d, v] of [['', ''] as [string, string], ['entry_page', paths[0]!] as [string, string], ['exit_page', paths[k - 1]!] as [string, string], ...attrs]) {
      const c = cell(d, v, partition);
      c.sessions++;
      c.bounces += bounce ? 1 : 0;
      c.durationMs += duration;
    }
    if (keepRaw) {
      for (let i = 0; i < k; i++) {
        raw.push({
          visitorId,
          ts: start + (i * duration) / Math.max(1, k - 1),
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
    }
    pageviews += k;
  }
  return { cells: [...cells.values()], pageviews, raw };
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

async function insertRaw(db: pg.Pool, siteId: string, raw: RawEvent[]): Promise<void> {
  for (let i = 0; i < raw.length; i += 5000) {
    const chunk = raw.slice(i, i + 5000);
    await db.query(
      `INSERT INTO events (event_id, site_id, visitor_id, name, url, ts, record)
       SELECT gen_random_uuid(), $1, u.visitor, 'pageview', u.url, u.ts, u.record
         FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::jsonb[]) AS u(visitor, url, ts, record)`,
      [
        siteId,
        chunk.map((e) => e.visitorId),
        chunk.map((e) => `https://big.example${e.path}`),
        chunk.map((e) => new Date(e.ts).toISOString()),
        chunk.map((e) =>
          JSON.stringify({ v: 1, siteId, visitorId: e.visitorId, name: 'pageview', url: `https://big.example${e.path}`, path: e.path, referrerHost: e.referrerHost, channel: e.channel, utm: e.utm, country: e.country, device: e.device, browser: e.browser, os: e.os, ts: e.ts }),
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
    const team = await db.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'Bench') RETURNING id");
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

    console.log(`[bench] seeding ${DAYS} days × ${PAGEVIEWS_PER_DAY.toLocaleString('en-US')} pageviews (${PARTITIONS} source partitions, real visitor sketches)…`);
    const seedStart = performance.now();
    let events = 0;
    let rows = 0;
    let rawEvents: RawEvent[] = [];
    for (let i = 0; i < rangeDays.length; i++) {
      const day = rangeDays[i]!;
      const { cells, pageviews, raw } = simulateDay(i, zonedMidnight(day, TZ), day === sampleDay);
      await insertCells(db, siteId, zonedMidnight(day, TZ), cells);
      if (day === sampleDay) rawEvents = raw;
      events += pageviews;
      rows += cells.length;
      if (i % 5 === 4) console.log(`[bench]   ${i + 1}/${DAYS} days, ${events.toLocaleString('en-US')} pageviews, ${rows.toLocaleString('en-US')} rollup rows (${((performance.now() - seedStart) / 1000).toFixed(0)} s)`);
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
    console.log(`[bench] raw-event sample for the baseline: ${rawEvents.length.toLocaleString('en-US')} events of ${sampleDay}`);
    await insertRaw(db, siteId, rawEvents);
    await db.query('VACUUM ANALYZE rollups');
    await db.query('VACUUM ANALYZE events');
    const size = await db.query<{ rows: string; bytes: string }>("SELECT count(*) AS rows, pg_size_pretty(pg_total_relation_size('rollups')) AS bytes FROM rollups");
    console.log(`[bench] seeded in ${((performance.now() - seedStart) / 1000).toFixed(0)} s: ${events.toLocaleString('en-US')} pageviews in the 30-day range; rollups table ${Number(size.rows[0]!.rows).toLocaleString('en-US')} rows, ${size.rows[0]!.bytes}`);

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
    console.log(`[bench] compacted ${settledDays.length} settled days in ${(compactMs / 1000).toFixed(1)} s (${(compactMs / settledDays.length).toFixed(0)} ms per day of ${PAGEVIEWS_PER_DAY.toLocaleString('en-US')} pageviews); today stays on the live rollups`);

    // ---- the dashboard's queries, 30 days ----
    const s: StatsSite = { id: siteId, timezone: TZ, sessionGapMinutes: 30 };
    const q = { range: '30d' as const, compare: 'previous' as const };
    const queries: [string, () => Promise<unknown>][] = [
      ['stats (summary, series, previous period)', () => siteStats(s, q, now)],
      ...DIMENSIONS.map((d): [string, () => Promise<unknown>] => [`breakdown ${d}`, () => siteBreakdown(s, q, d, 10, now)]),
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
      console.log(`  ${name.padEnd(42)} p50 ${ms(percentile(sorted, 50)).padStart(9)}   p95 ${ms(percentile(sorted, 95)).padStart(9)}`);
    }
    const p50 = percentile(all, 50);
    const p95 = percentile(all, 95);
    const dashboardLoad = [...per.values()].reduce((n, ts) => n + percentile([...ts].sort((a, b) => a - b), 50), 0);
    console.log(`  all: p50 ${ms(p50)}, p95 ${ms(p95)}; a whole dashboard load (sum of medians, sequential) ${ms(dashboardLoad)}`);

    // ---- the same queries without the compacted days (every day from the workers' rows) ----
    const month30 = resolveRange({ range: '30d', compare: 'previous' }, TZ, now);
    const uncached: [string, () => Promise<unknown>][] = [
      ['stats', async () => Promise.all([rollupSeries(siteId, month30, TZ, now, { useCache: false }), rollupSeries(siteId, month30.previous, TZ, now, { useCache: false })])],
      ...DIMENSIONS.map((d): [string, () => Promise<unknown>] => [d, () => rollupBreakdown(siteId, month30, TZ, d, 10, now, { useCache: false })]),
    ];
    const direct: number[] = [];
    for (let r = 0; r < Math.min(3, ROUNDS); r++) for (const [, fn] of uncached) direct.push((await timed(fn))[0]);
    direct.sort((x, y) => x - y);
    console.log(`  without the compacted days (straight from the per-partition rollups): p50 ${ms(percentile(direct, 50))}, p95 ${ms(percentile(direct, 95))}`);

    // ---- baseline: raw events, one-day sample ----
    // The sample day as one daily point (the dashboard draws a single day hourly, from hour rows,
    // which this benchmark does not seed).
    const dayStart = zonedMidnight(sampleDay, TZ);
    const dayEnd = zonedMidnight(today, TZ);
    const day: Period = { from: sampleDay, to: sampleDay, start: dayStart, end: dayEnd, points: [{ start: dayStart, end: dayEnd, label: sampleDay }] };
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
      return percentile(ts.sort((x, y) => x - y), 50);
    };
    await onRollups(day)();
    const rollupMs = await median(onRollups(day), 5);
    const rollupMonthMs = await median(onRollups(month), 5);
    const rawMs = await median(onRawEvents(day), 3);
    const [check1, check2] = [await rollupSeries(siteId, day, TZ, now), await eventSeries(siteId, day, 30, {}, now)];
    const extrapolated = rawMs * DAYS;
    const ratioDay = rawMs / rollupMs;
    const ratio30 = extrapolated / rollupMonthMs;
    console.log(`\n[bench] baseline, ${sampleDay} (${rawEvents.length.toLocaleString('en-US')} events): summary + series + 2 breakdowns`);
    console.log(`  rollups ${ms(rollupMs)}  vs  raw events ${ms(rawMs)}  →  ${ratioDay.toFixed(0)}× faster (pageviews ${check1.summary.pageviews} = ${check2.summary.pageviews})`);
    console.log(`  30 days: rollups ${ms(rollupMonthMs)}  vs  raw events ~${(extrapolated / 1000).toFixed(1)} s (extrapolated linearly from the sample)  →  ~${ratio30.toFixed(0)}× faster`);
    console.log(`  goal p95 ≤ 100 ms: ${p95 <= 100 ? 'met' : 'NOT met'}`);
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
        ...(SCALE !== 1 ? { scale: SCALE } : {}),
      }),
    );
  } finally {
    await db.end();
    await closeDb();
    if (process.argv.includes('--keep')) console.error(`[bench] kept ${bench.url}`);
    else await bench.drop();
    await services.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
