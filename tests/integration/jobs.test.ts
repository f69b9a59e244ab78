import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, topics } from '@/lib/bus';
import { KafkaBus } from '@/lib/bus/kafka';
import { setEnv } from '@/lib/env';
import { eventKey } from '@/lib/events/record';
import { localDayStart } from '@/lib/analytics/time-zone';
import { countVisitors } from '@/lib/analytics/visitors';
import { replay } from '@/workers/ops/replay';
import { peaksJob } from '@/workers/peaks/peaks-job';
import { reconcileJob } from '@/workers/reconcile/reconcile-job';
import { rollupsJob } from '@/workers/rollups/rollups-job';
import { runJob, type RunningJob } from '@/workers/runtime';
import { sessionsJob } from '@/workers/sessions/sessions-job';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import {
  generateVisits,
  MINUTE,
  outOfOrder,
  truthPeak,
  truthPeaksByDay,
  truthPerMinute,
  truthSessions,
  type GeneratedEvent,
} from '../helpers/traffic';
import { eventually } from '../helpers/wait';
import { jobSettings } from './support/job-settings';

// The stream jobs on real Kafka (3 partitions) and real PostgreSQL, against ground truth
// computed independently from the generator's output: rollups per site and minute, sessions,
// peak windows, late events reconciled exactly once, and a replay of the archive that must
// reproduce the streaming output.
//
// The traffic is dated around a fixed instant, never relative to the wall clock, so the test
// means the same at any hour. It crosses a month end and local midnight in both site zones
// (22:00Z for Berlin, mid-traffic; 00:00Z for UTC, in the last hour of traffic) — the UTC case is
// the one that failed CI at 01:47: the new day's only windows are among the last to close.

const GAP = 30 * MINUTE;
const TRAFFIC_START = Date.parse('2026-03-31T20:14:00Z'); // the traffic runs ~4 h 20 min
const UTC_MIDNIGHT = Date.parse('2026-04-01T00:00:00Z');
const BERLIN_MIDNIGHT = Date.parse('2026-03-31T22:00:00Z');
const SITE_ZONES = { alpha: 'UTC', beta: 'Europe/Berlin' } as const;
let db: TestDatabase;
let pool: pg.Pool;
let bus: KafkaBus;
let dims: SiteDimensionTable;
const running: RunningJob[] = [];
const loops: { stop(): Promise<void> }[] = [];
const sites: string[] = [];
const zoneOf = new Map<string, string>();
// The jobs' processing-time clock: fast-forwarded so quiet partitions' event time can move on.
let clockOffset = 0;
const clock = () => Date.now() + clockOffset;
let onTime: GeneratedEvent[] = [];
let late: GeneratedEvent[] = [];

const settings = jobSettings({
  EVENTS_PARTITIONS: 3,
  OUT_OF_ORDERNESS_MS: 5000,
  ALLOWED_LATENESS_MS: 120_000,
  IDLE_TIMEOUT_MS: 1500,
});
beforeAll(async () => {
  setEnv({
    BUS_NAMESPACE: `jobs${randomBytes(3).toString('hex')}.`,
    EVENTS_PARTITIONS: String(settings.EVENTS_PARTITIONS),
  });
  db = await freshDatabase('jobs');
  pool = new pg.Pool({ connectionString: db.url, max: 12 });
  pool.on('error', () => undefined);
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
  ).rows[0]!.id;
  for (const [name, zone] of Object.entries(SITE_ZONES)) {
    const id = (
      await pool.query<{ id: string }>(
        "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames, timezone) VALUES (gen_random_uuid(), $1, $2, 'shop.test', $3, '{}', $4) RETURNING id",
        [team, name, `k-${randomUUID()}`, zone],
      )
    ).rows[0]!.id;
    sites.push(id);
    zoneOf.set(id, zone);
  }
  await pool.query(
    "INSERT INTO content_groups (id, site_id, name, pattern, position) VALUES (gen_random_uuid(), $1, 'Blog', '/blog/**', 0), (gen_random_uuid(), $1, 'Docs', '/docs/*', 1)",
    [sites[0]],
  );
  bus = new KafkaBus(kafkaBrokers());
  await ensureTopics(bus);
  dims = new SiteDimensionTable(pool);
  await dims.refresh();
  running.push(
    await runJob(rollupsJob({ bus, db: pool, dims, settings, clock }), bus, pool, { sessionTimeoutMs: 6000 }),
  );
  running.push(
    await runJob(sessionsJob({ bus, db: pool, dims, settings, clock }), bus, pool, { sessionTimeoutMs: 6000 }),
  );
  const peaks = peaksJob({ db: pool, bus, dims, settings, clock });
  peaks.start(500);
  const reconcile = reconcileJob({ db: pool, bus, dims });
  reconcile.start(500);
  loops.push(peaks, reconcile);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(running.map((r) => r.stop()));
  await Promise.allSettled(loops.map((l) => l.stop()));
  await bus?.close();
  await pool?.end();
  await db?.drop();
});

const produce = (events: GeneratedEvent[]) =>
  bus.producer().send(
    topics.events,
    events.map((e) => ({ key: eventKey(e), value: JSON.stringify(e) })),
  );

async function appliedEverything(): Promise<boolean> {
  const highs = await bus.topicOffsets(topics.events);
  const progress = await pool.query<{ job: string; partition: number; next_offset: string }>(
    'SELECT job, partition, next_offset::text FROM consumer_progress WHERE topic = $1',
    [topics.events],
  );
  return ['rollups', 'sessions'].every((job) =>
    highs.every((h) => progress.rows.find((p) => p.job === job && p.partition === h.partition)?.next_offset === h.high),
  );
}

describe('stream jobs', () => {
  it(
    'rollups, sessions and peaks equal the ground truth; re-sends count once; late events are reconciled once',
    { timeout: 180_000 },
    async () => {
      onTime = generateVisits({ seed: 7, sites, visitors: 160, start: TRAFFIC_START, spanMs: 60 * MINUTE, gapMs: GAP });
      // The boundaries this test is about are really inside the traffic: Berlin's midnight with
      // plenty on both sides, and alpha's new UTC day only in the last hour of event time.
      const last = Math.max(...onTime.map((e) => e.ts));
      const pageviews = (site: string) =>
        onTime.filter((e) => e.siteId === site && e.name === 'pageview').map((e) => e.ts);
      expect(pageviews(sites[1]!).filter((t) => t < BERLIN_MIDNIGHT).length).toBeGreaterThan(50);
      expect(pageviews(sites[1]!).filter((t) => t >= BERLIN_MIDNIGHT).length).toBeGreaterThan(50);
      expect(pageviews(sites[0]!).filter((t) => t >= UTC_MIDNIGHT).length).toBeGreaterThan(0);
      expect(
        pageviews(sites[0]!)
          .filter((t) => t >= UTC_MIDNIGHT)
          .every((t) => t > last - 60 * MINUTE),
      ).toBe(true);
      // Arrive up to 4 s out of order (B = 5 s), plus 25 producer re-sends of the same events.
      const arrival = outOfOrder(onTime, 4000, 11);
      for (let i = 0; i < arrival.length; i += 100) await produce(arrival.slice(i, i + 100));
      await produce(arrival.slice(0, 25));
      await eventually(appliedEverything, 60_000, 'all records applied by both jobs');

      // Two hours of silence later (on the jobs' clock) every window has closed, and events
      // for minutes long gone are late: new visitors, one event each, received now.
      clockOffset = 2 * 3_600_000;
      await eventually(
        async () =>
          (await pool.query('SELECT count(*)::int AS n FROM sessions')).rows[0].n >= truthSessions(onTime, GAP).length,
        60_000,
        'sessions closed',
      );
      // Received two hours after the traffic, on the traffic's own time line: the replay orders the
      // archive by receipt, so a wall-clock receipt time before the traffic (a clock set back, or
      // EDDY_TEST_NOW before 2026-03-31) would replay them first, as on time.
      const receivedAt = Math.max(...onTime.map((e) => e.ts)) + 2 * 3_600_000;
      late = Array.from({ length: 12 }, (_, i) => ({
        ...onTime[i]!,
        eventId: randomUUID(),
        visitorId: `late-${i}`,
        name: 'pageview',
        receivedAt,
      }));
      await produce(late);
      await eventually(appliedEverything, 60_000, 'late records applied');
      await eventually(
        async () => (await pool.query('SELECT count(reconciled_at)::int AS n FROM late_events')).rows[0].n === 12,
        30_000,
        'late events reconciled',
      );
      expect((await pool.query('SELECT count(*)::int AS n FROM late_events')).rows[0].n).toBe(12);

      // Rollups per site and minute (all partitions, including reconciled late events) = truth.
      const truth = new Map([...truthPerMinute([...onTime, ...late])].filter(([, v]) => v.pageviews || v.events));
      await eventually(
        async () => {
          const got = await minuteTotals(pool);
          return (
            [...truth].every(([k, v]) => got.get(k)?.pageviews === v.pageviews && got.get(k)?.events === v.events) &&
            got.size === truth.size
          );
        },
        30_000,
        'minute rollups equal the truth',
      ).catch(async (e: unknown) => {
        const got = await minuteTotals(pool);
        const diff = [...new Set([...truth.keys(), ...got.keys()])]
          .filter(
            (k) => truth.get(k)?.pageviews !== got.get(k)?.pageviews || truth.get(k)?.events !== got.get(k)?.events,
          )
          .slice(0, 8)
          .map((k) => `${k.slice(-13)} truth=${JSON.stringify(truth.get(k))} got=${JSON.stringify(got.get(k))}`);
        throw new Error(`${(e as Error).message}; first differences: ${diff.join('; ')}`);
      });
      // Hour and day rows are consistent with the minutes.
      for (const siteId of sites) {
        const truthTotal = [...truth].filter(([k]) => k.startsWith(siteId)).reduce((n, [, v]) => n + v.pageviews, 0);
        for (const g of ['hour', 'day']) {
          const r = await pool.query<{ n: number }>(
            "SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE site_id = $1 AND granularity = $2 AND dimension = ''",
            [siteId, g],
          );
          expect(r.rows[0]!.n, `${g} pageviews of ${siteId}`).toBe(truthTotal);
        }
        // Each event in the bucket of its site's local day: one bucket per day, also on the DST day.
        const truthDays = new Map<number, number>();
        for (const e of [...onTime, ...late]) {
          if (e.siteId !== siteId || e.name !== 'pageview') continue;
          const day = localDayStart(e.ts, zoneOf.get(siteId)!);
          truthDays.set(day, (truthDays.get(day) ?? 0) + 1);
        }
        const days = await pool.query<{ bucket: Date; n: number }>(
          "SELECT bucket, sum(pageviews)::int AS n FROM rollups WHERE site_id = $1 AND granularity = 'day' AND dimension = '' GROUP BY 1 HAVING sum(pageviews) > 0",
          [siteId],
        );
        expect(new Map(days.rows.map((r) => [r.bucket.getTime(), r.n])), `day buckets of ${siteId}`).toEqual(truthDays);
        // Unique visitors over the day: a merge of sketches, within 2 % of the exact count.
        const sketches = await pool.query<{ visitors: never }>(
          "SELECT visitors FROM rollups WHERE site_id = $1 AND granularity = 'day' AND dimension = ''",
          [siteId],
        );
        const exact = new Set([...onTime, ...late].filter((e) => e.siteId === siteId).map((e) => e.visitorId)).size;
        expect(Math.abs(countVisitors(sketches.rows.map((r) => r.visitors)) - exact) / exact).toBeLessThan(0.02);
      }
      // Content groups from the dimension table.
      const blog = await pool.query<{ n: number }>(
        "SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = 'content_group' AND value = 'Blog' AND source_partition >= 0",
        [sites[0]],
      );
      expect(blog.rows[0]!.n).toBe(
        onTime.filter((e) => e.siteId === sites[0] && e.name === 'pageview' && e.path.startsWith('/blog/')).length,
      );

      // Sessions = sessionization by definition of the on-time events (late visitors had no session to join).
      const expected = truthSessions(onTime, GAP);
      const got = await pool.query<{
        site_id: string;
        visitor_id: string;
        started_at: Date;
        ended_at: Date;
        pageviews: number;
        events: number;
        entry_path: string;
        exit_path: string;
      }>('SELECT site_id, visitor_id, started_at, ended_at, pageviews, events, entry_path, exit_path FROM sessions');
      const norm = (s: {
        siteId: string;
        visitorId: string;
        start: number;
        end: number;
        pageviews: number;
        events: number;
        entryPath: string;
      }) => `${s.siteId}|${s.visitorId}|${s.start}|${s.end}|${s.pageviews}|${s.events}|${s.entryPath}`;
      expect(
        got.rows
          .map((r) =>
            norm({
              siteId: r.site_id,
              visitorId: r.visitor_id,
              start: r.started_at.getTime(),
              end: r.ended_at.getTime(),
              pageviews: r.pageviews,
              events: r.events,
              entryPath: r.entry_path,
            }),
          )
          .sort(),
      ).toEqual(expected.map(norm).sort());
      // Session totals in the rollups agree with the sessions table.
      const sessionTotals = await pool.query<{ n: number }>(
        "SELECT COALESCE(sum(sessions), 0)::int AS n FROM rollups WHERE granularity = 'day' AND dimension = ''",
      );
      expect(sessionTotals.rows[0]!.n).toBe(expected.length);

      // The last windows close only after as much event time again as their size. Event time moves
      // with the jobs' clock while nothing arrives (see workers/shared/event-time.ts), and the
      // rollups' last partials came after the first jump: a second silence lets them all fire.
      // Without it the last hour's windows — those of the next day when the traffic ends after a
      // midnight — are not in peak_windows yet, which is what the replay comparison once tripped on.
      clockOffset = 4 * 3_600_000;
      // Peak windows: the busiest 60-min and 5-min windows of the whole site = brute force over the on-time pageviews.
      for (const siteId of sites) {
        for (const [size, slide] of [
          [60, 5],
          [5, 1],
        ] as const) {
          const want = truthPeak(onTime, siteId, size * MINUTE, slide * MINUTE);
          await eventually(
            async () => {
              const r = await pool.query<{ n: number }>(
                "SELECT max(pageviews)::int AS n FROM peak_windows WHERE site_id = $1 AND content_group = '' AND window_size_minutes = $2",
                [siteId, size],
              );
              return r.rows[0]!.n === want;
            },
            30_000,
            `peak ${size}/${slide} min of ${siteId} = ${want}`,
          );
          // And the busiest window of each local day, on both sides of each midnight.
          const wantDays = truthPeaksByDay(onTime, siteId, size * MINUTE, slide * MINUTE, zoneOf.get(siteId)!);
          expect(wantDays.size, `days with ${size}-min peaks of ${siteId}`).toBeGreaterThanOrEqual(2);
          const gotDays = async () =>
            new Map(
              (
                await pool.query<{ day: string; n: number }>(
                  "SELECT to_char(day, 'YYYY-MM-DD') AS day, pageviews AS n FROM peak_windows WHERE site_id = $1 AND content_group = '' AND window_size_minutes = $2 AND pageviews > 0",
                  [siteId, size],
                )
              ).rows.map((r) => [r.day, r.n]),
            );
          await eventually(
            async () => JSON.stringify([...(await gotDays())].sort()) === JSON.stringify([...wantDays].sort()),
            30_000,
            `daily ${size}-min peaks of ${siteId}`,
          ).catch(async (e: unknown) => {
            throw new Error(
              `${(e as Error).message}: want ${JSON.stringify([...wantDays].sort())}, got ${JSON.stringify([...(await gotDays())].sort())}`,
            );
          });
        }
      }
      // Offsets: stored next offsets equal the topic's high watermarks; committed ≤ them.
      const highs = await bus.topicOffsets(topics.events);
      for (const job of ['rollups', 'sessions']) {
        const committed = await bus.committedOffsets(
          `job-${job}`.replace(/^/, process.env.BUS_NAMESPACE ?? ''),
          topics.events,
        );
        for (const h of highs) {
          const c = committed.find((x) => x.partition === h.partition)?.offset;
          if (c !== null && c !== undefined) expect(BigInt(c) <= BigInt(h.high)).toBe(true);
        }
      }
      const ledger = await pool.query<{ late: number }>(
        'SELECT COALESCE(sum(late), 0)::int AS late FROM ingestion_ledger',
      );
      expect(ledger.rows[0]!.late).toBe(12);
    },
  );

  it(
    'replaying the archive through the same job code reproduces the streaming output',
    { timeout: 120_000 },
    async () => {
      const from = new Date(Math.min(...onTime.map((e) => e.ts)) - 3_600_000);
      // The live peaks job keeps running during a replay, as in production. Hold one of its passes
      // mid-transaction for the whole replay (it has taken its lock and waits for its checkpoint
      // row): the replay's peaks passes, in the scratch schema, must not wait for it or skip.
      const holder = await pool.connect();
      let r: Awaited<ReturnType<typeof replay>>;
      try {
        await holder.query('BEGIN');
        await holder.query(
          "SELECT 1 FROM consumer_progress WHERE job = 'peaks' AND topic = 'minute_partials' AND partition = 0 FOR UPDATE",
        );
        await eventually(
          async () =>
            (
              await pool.query<{ n: number }>(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%consumer_progress%FOR UPDATE%'",
              )
            ).rows[0]!.n > 0,
          10_000,
          'a live peaks pass waiting mid-transaction',
        );
        r = await replay({
          databaseUrl: db.url,
          from,
          to: new Date(Math.max(...onTime.map((e) => e.ts)) + 3_600_000),
          settings,
          schema: 'replay_test',
        });
      } finally {
        await holder.query('COMMIT');
        holder.release();
      }
      expect(r.events).toBe(onTime.length + late.length);
      // The replay set late events aside exactly as streaming did; reconcile them the same way.
      const scratch = new pg.Pool({ connectionString: db.url, options: '-c search_path=replay_test,public' });
      try {
        const rec = reconcileJob({ db: scratch, bus: { producer: () => ({ send: async () => [] }) } as never, dims });
        while ((await rec.runOnce()) > 0);
        const streamed = await minuteTotals(pool);
        const replayed = await minuteTotals(scratch);
        expect([...replayed].sort()).toEqual([...streamed].sort());
        const q =
          'SELECT site_id, visitor_id, started_at, ended_at, pageviews, events, bounce, entry_path, exit_path FROM sessions ORDER BY 1, 2, 3';
        expect((await scratch.query(q)).rows).toEqual((await pool.query(q)).rows);
        const p =
          'SELECT site_id, day, content_group, window_size_minutes, pageviews FROM peak_windows ORDER BY 1, 2, 3, 4';
        expect((await scratch.query(p)).rows).toEqual((await pool.query(p)).rows);
        // The facts filtered views read (issue 17), by value: the two dictionaries number values apart.
        const v = (col: string) => `(SELECT value FROM dimension_values d WHERE d.id = f.${col})`;
        const ef = `SELECT f.site_id, f.ts, f.event_id, f.visitor, f.kind, ${['page', 'referrer', 'channel', 'utm_source', 'country', 'device', 'browser', 'os'].map(v).join(', ')} FROM event_facts f ORDER BY 1, 2, 3`;
        expect((await scratch.query(ef)).rows).toEqual((await pool.query(ef)).rows);
        expect((await pool.query(ef)).rows.length).toBe(onTime.length + late.length);
        const vf = `SELECT f.site_id, f.started_at, f.visitor, f.ended_at, f.pageviews, f.duration_ms, f.bounce, ${['entry_page', 'exit_page', 'referrer', 'channel', 'country', 'device'].map(v).join(', ')} FROM visit_facts f ORDER BY 1, 2, 3`;
        expect((await scratch.query(vf)).rows).toEqual((await pool.query(vf)).rows);
        expect((await pool.query(vf)).rows.length).toBe((await pool.query('SELECT 1 FROM sessions')).rows.length);
      } finally {
        await scratch.end();
      }
    },
  );
});

async function minuteTotals(p: pg.Pool): Promise<Map<string, { pageviews: number; events: number }>> {
  const r = await p.query<{ site_id: string; bucket: Date; pageviews: number; events: number }>(
    "SELECT site_id, bucket, sum(pageviews)::int AS pageviews, sum(events)::int AS events FROM rollups WHERE granularity = 'minute' AND dimension = '' GROUP BY 1, 2",
  );
  return new Map(
    r.rows
      .filter((x) => x.pageviews || x.events)
      .map((x) => [`${x.site_id}|${x.bucket.getTime()}`, { pageviews: x.pageviews, events: x.events }]),
  );
}
