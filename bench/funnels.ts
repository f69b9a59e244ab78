// Benchmark of live funnels (`npm run bench -- funnels`): 7 days of one site's traffic with a
// 3-step funnel (/ → /pricing → Signup, within 60 min), processed by the funnels job (count
// windows, workers/funnels/) in batches of 500 records, one PostgreSQL transaction per batch with
// its event-id claims, attempt upserts and checkpoint — against, in the same run on the same
// data, recomputing the funnel from the raw archive in SQL for the 7-day range (what a dashboard
// without the job would run on every refresh).
//
// Figures: the job's events/s and per-batch latency (p50/p99: how soon a batch is visible); the
// SQL recompute's time per refresh and its events scanned per second; and `ratio` = job events/s
// ÷ SQL events/s *per refresh* — with a live dashboard refreshing after each batch, the SQL way
// must rescan the whole range to take in one batch (500 new events), the job only the batch.
// Also: state per open funnel attempt (heap bytes and checkpoint JSON bytes).
//
// Flags: --events <n> (default 300000), --batch <n> (500), --rounds <n> SQL repetitions (5).
// Human-readable lines first; the last line is one JSON object.

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Bus, BusMessage } from '@/lib/bus';
import { env, setEnv } from '@/lib/env';
import type { EventRecord } from '@/lib/events/record';
import { compileMatcher, type CompiledMatcher } from '@/lib/goals/definition';
import { applyRecords } from '@/workers/consumer/steps';
import { FunnelTracker, type FunnelSpec } from '@/workers/funnels/funnel-tracker';
import { funnelsJob } from '@/workers/funnels/funnels-job';
import type { DefinitionsTable } from '@/workers/insights/definitions';
import { DEFAULT_SITE } from '@/workers/shared/dimensions';
import { flag } from './support/args';
import { benchServices, freshBenchDatabase } from './support/services';

const EVENTS = flag('events', 300_000, { integer: true });
const BATCH = flag('batch', 500, { integer: true });
const ROUNDS = flag('rounds', 5, { integer: true });
const DAYS = 7;
const START = Date.UTC(2026, 10, 1);
const WINDOW_MIN = 60;

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

/** Visits of 1–8 events; about half view pricing after landing, a fifth of those sign up. */
function traffic(siteId: string): EventRecord[] {
  const r = prng(7);
  const out: EventRecord[] = [];
  const PAGES = ['/', '/pricing', '/blog/a', '/blog/b', '/docs', '/about'];
  let v = 0;
  while (out.length < EVENTS) {
    const visitorId = `v${v++}`;
    let t = START + Math.floor(r() * DAYS * 86_400_000);
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n && out.length < EVENTS; i++) {
      const path = i === 0 ? '/' : PAGES[Math.floor(r() * PAGES.length)]!;
      const name = i > 1 && r() < 0.15 ? 'Signup' : 'pageview';
      out.push({
        v: 1,
        eventId: randomUUID(),
        siteId,
        visitorId,
        name,
        url: `https://b.test${path}`,
        hostname: 'b.test',
        path,
        channel: 'direct',
        device: 'desktop',
        browser: 'Chrome',
        os: 'Linux',
        ts: t,
        receivedAt: t,
      });
      t += 5_000 + Math.floor(r() * 120_000);
    }
  }
  // Arrival order: by event time (one partition, as a live stream would deliver it).
  return out.sort((a, b) => a.ts - b.ts);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
};

async function main(): Promise<void> {
  const services = await benchServices({ kafka: false });
  const db = await freshBenchDatabase(services.adminUrl, 'funnels');
  setEnv({ DATABASE_URL: db.url, OUT_OF_ORDERNESS_MS: '15000', ALLOWED_LATENESS_MS: '300000' });
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  try {
    const team = (
      await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 'bench') RETURNING id")
    ).rows[0]!.id;
    const siteId = (
      await pool.query<{ id: string }>(
        "INSERT INTO sites (id, team_id, name, domain, public_key) VALUES (gen_random_uuid(), $1, 'b', 'b.test', $2) RETURNING id",
        [team, `k-${randomUUID()}`],
      )
    ).rows[0]!.id;
    const stepsJson = [
      { kind: 'page', pathPattern: '/' },
      { kind: 'page', pathPattern: '/pri*' },
      { kind: 'event', eventName: 'Signup' },
    ];
    const funnelId = (
      await pool.query<{ id: string }>(
        "INSERT INTO funnels (id, site_id, name, steps, scope, window_minutes) VALUES (gen_random_uuid(), $1, $2, $3, 'window', $4) RETURNING id",
        [siteId, 'bench', JSON.stringify(stepsJson), WINDOW_MIN],
      )
    ).rows[0]!.id;
    const spec: FunnelSpec = {
      id: funnelId,
      siteId,
      steps: stepsJson.map((s) => compileMatcher(s)!) as CompiledMatcher[],
      scope: 'window',
      windowMs: WINDOW_MIN * 60_000,
    };
    const defs = { funnels: () => [spec], goals: () => [], table: { version: 1 } } as unknown as DefinitionsTable;
    const events = traffic(siteId);
    console.log(
      `[funnels] ${events.length} events over ${DAYS} days, ${new Set(events.map((e) => e.visitorId)).size} visitors; batches of ${BATCH}`,
    );

    // The archive the SQL baseline reads (as the rollups job writes it).
    for (let i = 0; i < events.length; i += 5000) {
      const chunk = events.slice(i, i + 5000);
      await pool.query(
        `INSERT INTO events (event_id, site_id, visitor_id, name, url, ts, received_at, record)
         SELECT u.id, $1, u.v, u.n, u.url, u.ts, u.ts, u.r FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[]) AS u(id, v, n, url, ts, r)`,
        [
          siteId,
          chunk.map((e) => e.eventId),
          chunk.map((e) => e.visitorId),
          chunk.map((e) => e.name),
          chunk.map((e) => e.url),
          chunk.map((e) => new Date(e.ts)),
          chunk.map((e) => JSON.stringify(e)),
        ],
      );
    }
    await pool.query('ANALYZE events');

    // ---- the job ------------------------------------------------------------------------------
    const silentBus = { producer: () => ({ send: async () => [] }) } as unknown as Bus;
    const job = funnelsJob({
      bus: silentBus,
      defs,
      dims: { site: () => DEFAULT_SITE },
      settings: env(),
      clock: () => 0,
    });
    job.restore(0, null);
    await pool.query(
      "INSERT INTO consumer_progress (job, topic, partition, next_offset, state) VALUES ('funnels', 'bench', 0, 0, NULL)",
    );
    const latencies: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < events.length; i += BATCH) {
      const b0 = performance.now();
      const records = events.slice(i, i + BATCH).map((record, j) => ({
        record,
        message: {
          topic: 'bench',
          partition: 0,
          offset: String(i + j),
          key: null,
          value: null,
          timestamp: record.ts,
          headers: {},
        } as BusMessage,
      }));
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(
          "SELECT next_offset FROM consumer_progress WHERE job = 'funnels' AND topic = 'bench' AND partition = 0 FOR UPDATE",
        );
        const { result: r } = await applyRecords(job, c, 0, records);
        await c.query(
          "UPDATE consumer_progress SET next_offset = $1, state = $2 WHERE job = 'funnels' AND topic = 'bench' AND partition = 0",
          [i + records.length, JSON.stringify(r.state ?? null)],
        );
        await c.query('COMMIT');
      } finally {
        c.release();
      }
      latencies.push(performance.now() - b0);
    }
    const jobSeconds = (performance.now() - t0) / 1000;
    const jobRate = events.length / jobSeconds;
    const js = (
      await pool.query<{ a: number; b: number; c: number }>(
        'SELECT count(DISTINCT visitor_id)::int AS a, count(DISTINCT visitor_id) FILTER (WHERE steps_reached >= 2)::int AS b, count(DISTINCT visitor_id) FILTER (WHERE steps_reached >= 3)::int AS c FROM funnel_attempts',
      )
    ).rows[0]!;
    console.log(
      `[funnels] job: ${jobSeconds.toFixed(1)} s, ${Math.round(jobRate)} events/s; batch latency p50 ${pct(latencies, 0.5).toFixed(1)} ms, p99 ${pct(latencies, 0.99).toFixed(1)} ms; steps ${js.a} → ${js.b} → ${js.c} visitors (any attempt)`,
    );

    // ---- baseline: the funnel recomputed from the archive in SQL ---------------------------------
    const sql = `
      WITH e AS (SELECT visitor_id, ts, name, record->>'path' AS path FROM events WHERE site_id = $1 AND ts >= $2 AND ts < $3),
      s1 AS (SELECT visitor_id, min(ts) AS t1 FROM e WHERE name = 'pageview' AND path = '/' GROUP BY visitor_id),
      s2 AS (SELECT s1.visitor_id, s1.t1, min(e.ts) AS t2 FROM s1 JOIN e ON e.visitor_id = s1.visitor_id AND e.name = 'pageview' AND e.path LIKE '/pri%'
               AND e.ts >= s1.t1 AND e.ts < s1.t1 + make_interval(mins => $4) GROUP BY 1, 2),
      s3 AS (SELECT s2.visitor_id, min(e.ts) AS t3 FROM s2 JOIN e ON e.visitor_id = s2.visitor_id AND e.name = 'Signup'
               AND e.ts >= s2.t2 AND e.ts < s2.t1 + make_interval(mins => $4) GROUP BY 1)
      SELECT (SELECT count(*) FROM s1)::int AS s1, (SELECT count(*) FROM s2)::int AS s2, (SELECT count(*) FROM s3)::int AS s3`;
    const params = [siteId, new Date(START), new Date(START + DAYS * 86_400_000), WINDOW_MIN];
    await pool.query(sql, params); // warm
    const times: number[] = [];
    let steps: { s1: number; s2: number; s3: number } = { s1: 0, s2: 0, s3: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      const q0 = performance.now();
      steps = (await pool.query<{ s1: number; s2: number; s3: number }>(sql, params)).rows[0]!;
      times.push(performance.now() - q0);
    }
    const sqlMs = pct(times, 0.5);
    const sqlScanRate = events.length / (sqlMs / 1000);
    const sqlLiveRate = BATCH / (sqlMs / 1000);
    console.log(
      `[funnels] SQL recompute over ${DAYS} days: ${sqlMs.toFixed(0)} ms per refresh (median of ${ROUNDS}), ${Math.round(sqlScanRate)} events scanned/s; steps ${steps.s1} → ${steps.s2} → ${steps.s3} (first attempt per visitor)`,
    );
    console.log(
      `[funnels] live: a refresh after each batch of ${BATCH} costs the SQL way ${sqlMs.toFixed(0)} ms for ${BATCH} new events (${Math.round(sqlLiveRate)} events/s), the job ${pct(latencies, 0.5).toFixed(1)} ms`,
    );
    const ratio = jobRate / sqlLiveRate;
    console.log(`[funnels] ratio (job events/s ÷ SQL events/s per refresh): ${ratio.toFixed(1)}×`);

    // ---- state per open attempt -------------------------------------------------------------------
    const tracker = new FunnelTracker({ outOfOrdernessMs: 15_000, allowedLatenessMs: 300_000 });
    const OPEN = 50_000;
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < OPEN; i++)
      tracker.process(
        { siteId, visitorId: `open-${i}`, ts: START + i, name: 'pageview', path: '/' },
        [spec],
        DEFAULT_SITE.sessionGapMs,
      );
    (globalThis as { gc?: () => void }).gc?.();
    const heapPerAttempt = (process.memoryUsage().heapUsed - before) / OPEN;
    const jsonPerAttempt = Buffer.byteLength(JSON.stringify(tracker.snapshot())) / OPEN;
    console.log(
      `[funnels] state per open attempt: ~${Math.round(heapPerAttempt)} B of heap, ${Math.round(jsonPerAttempt)} B of checkpoint JSON (${tracker.openAttempts} open)`,
    );

    console.log(
      JSON.stringify({
        bench: 'funnels',
        events: events.length,
        batch: BATCH,
        jobEventsPerSecond: Math.round(jobRate),
        jobBatchP50Ms: +pct(latencies, 0.5).toFixed(1),
        jobBatchP99Ms: +pct(latencies, 0.99).toFixed(1),
        sqlRefreshMs: +sqlMs.toFixed(1),
        sqlEventsScannedPerSecond: Math.round(sqlScanRate),
        sqlEventsPerSecondPerRefresh: Math.round(sqlLiveRate),
        ratio: +ratio.toFixed(1),
        heapBytesPerOpenAttempt: Math.round(heapPerAttempt),
        checkpointBytesPerOpenAttempt: Math.round(jsonPerAttempt),
      }),
    );
  } finally {
    await pool.end();
    await db.drop();
    await services.stop();
  }
}

await main();
