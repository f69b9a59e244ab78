import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, topics } from '@/lib/bus';
import { KafkaBus } from '@/lib/bus/kafka';
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

// Live visits (issue 12 §2) on real Kafka and PostgreSQL: the sessions job fires early after every
// batch with accumulate-and-retract, so an open visit is in the rollups within a second of its
// first pageview; refinements replace its values (a bounce that stops being one is retracted);
// a worker restarted mid-visit retracts exactly what was committed; and when the gap closes (the
// jobs' injected clock fast-forwarded) nothing changes: the totals are what on-time-only firing
// gives, recomputed here from the events themselves.

const MINUTE = 60_000;
const GAP = 30 * MINUTE;
let db: TestDatabase;
let pool: pg.Pool;
let bus: KafkaBus;
let dims: SiteDimensionTable;
let rollups: RunningJob;
let sessions: RunningJob;
let siteId: string;
let warmSiteId: string;
// The jobs' processing-time clock: fast-forwarded so the quiet partition's event time moves on.
let clockOffset = 0;
const clock = () => Date.now() + clockOffset;
const visitStart = Date.now() - 10 * MINUTE;
const sent: EventRecord[] = [];

const pageview = (site: string, visitorId: string, i: number, ts: number): EventRecord => ({
  v: 1,
  eventId: randomUUID(),
  siteId: site,
  visitorId,
  name: 'pageview',
  url: `https://live.test/p${i}`,
  hostname: 'live.test',
  path: `/p${i}`,
  channel: i === 0 ? 'search' : 'internal',
  referrerHost: i === 0 ? 'www.google.com' : 'live.test',
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

/** The site's session columns in the rollups, summed over source partitions, for one granularity and dimension. */
async function sessionRollups(
  granularity: string,
  dimension: string,
): Promise<Record<string, { sessions: number; bounces: number; duration: number }>> {
  const r = await pool.query<{ value: string; sessions: number; bounces: number; duration: number }>(
    `SELECT value, sum(sessions)::int AS sessions, sum(bounces)::int AS bounces, sum(duration_ms)::int AS duration FROM rollups
     WHERE site_id = $1 AND granularity = $2::"Granularity" AND dimension = $3 GROUP BY value HAVING sum(sessions) <> 0 OR sum(bounces) <> 0 OR sum(duration_ms) <> 0`,
    [siteId, granularity, dimension],
  );
  return Object.fromEntries(
    r.rows.map((row) => [row.value, { sessions: row.sessions, bounces: row.bounces, duration: row.duration }]),
  );
}

/**
 * The dashboard's summary tiles as the stats API answers them (the function behind
 * GET /api/sites/:id/stats): unfiltered from the rollups, and filtered by a value the whole
 * visit has (browser Firefox) from the raw events. 7 days, so a run just after midnight still
 * holds the whole visit.
 */
async function dashboardTiles() {
  const site = { id: siteId, timezone: 'UTC', sessionGapMinutes: GAP / MINUTE };
  const pick = (m: {
    sessions: number;
    pageviews: number;
    pagesPerSession: number | null;
    bounceRate: number | null;
    avgDurationMs: number | null;
  }) => ({
    visits: m.sessions,
    pageviews: m.pageviews,
    pagesPerVisit: m.pagesPerSession,
    bounceRate: m.bounceRate,
    durationMs: m.avgDurationMs,
  });
  const unfiltered = await siteStats(site, statsQuerySchema.parse({ range: '7d', compare: 'none' }), clock());
  const filtered = await siteStats(
    site,
    statsQuerySchema.parse({ range: '7d', compare: 'none', browser: 'Firefox' }),
    clock(),
  );
  return { unfiltered: pick(unfiltered.summary), filtered: pick(filtered.summary) };
}

async function pageviewTotal(): Promise<number> {
  const r = await pool.query<{ n: number }>(
    "SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE site_id = $1 AND granularity = 'day' AND dimension = ''",
    [siteId],
  );
  return r.rows[0]!.n;
}

const settings = jobSettings({
  EVENTS_PARTITIONS: 1,
  OUT_OF_ORDERNESS_MS: 5000,
  ALLOWED_LATENESS_MS: 120_000,
  IDLE_TIMEOUT_MS: 1500,
});
const startSessions = () =>
  runJob(sessionsJob({ bus, db: pool, dims, settings, clock }), bus, pool, { sessionTimeoutMs: 6000 });

beforeAll(async () => {
  setEnv({
    BUS_NAMESPACE: `live${randomBytes(3).toString('hex')}.`,
    EVENTS_PARTITIONS: String(settings.EVENTS_PARTITIONS),
  });
  db = await freshDatabase('live');
  setEnv({ DATABASE_URL: db.url });
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  pool.on('error', () => undefined);
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
  ).rows[0]!.id;
  const site = async (name: string) =>
    (
      await pool.query<{ id: string }>(
        "INSERT INTO sites (id, team_id, name, domain, public_key) VALUES (gen_random_uuid(), $1, $2, 'live.test', $3) RETURNING id",
        [team, name, `k-${randomUUID()}`],
      )
    ).rows[0]!.id;
  siteId = await site('live');
  warmSiteId = await site('warm-up');
  bus = new KafkaBus(kafkaBrokers());
  await ensureTopics(bus);
  dims = new SiteDimensionTable(pool);
  await dims.refresh();
  rollups = await runJob(rollupsJob({ bus, db: pool, dims, settings, clock }), bus, pool, { sessionTimeoutMs: 6000 });
  sessions = await startSessions();
  // Both jobs own the partition and are polling before anything is timed.
  await produce([pageview(warmSiteId, 'warm', 0, Date.now() - 11 * MINUTE)]);
  await eventually(
    async () =>
      (await pool.query('SELECT count(*)::int AS n FROM sessions WHERE site_id = $1', [warmSiteId])).rows[0].n === 1,
    60_000,
    'warm-up visit written',
  );
  await eventually(
    async () =>
      (await pool.query('SELECT count(*)::int AS n FROM events WHERE site_id = $1', [warmSiteId])).rows[0].n === 1,
    60_000,
    'warm-up event archived',
  );
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([rollups?.stop(), sessions?.stop()]);
  await bus?.close();
  await pool?.end();
  await closeDb();
  await db?.drop();
});

describe('live sessions', () => {
  it(
    'counts a visit in the rollups within a second of its first pageview, as a bounce so far',
    { timeout: 30_000 },
    async () => {
      const first = pageview(siteId, 'visitor-1', 0, visitStart);
      sent.push(first);
      const t0 = Date.now();
      await produce([first]);
      await eventually(
        async () => (await sessionRollups('minute', ''))['']?.sessions === 1,
        5_000,
        'visit in the rollups',
      );
      const elapsed = Date.now() - t0;
      expect(elapsed).toBeLessThan(1000);
      expect(await sessionRollups('day', '')).toEqual({ '': { sessions: 1, bounces: 1, duration: 0 } });
      const row = await pool.query('SELECT pageviews, bounce, entry_path, exit_path FROM sessions WHERE site_id = $1', [
        siteId,
      ]);
      expect(row.rows).toEqual([{ pageviews: 1, bounce: true, entry_path: '/p0', exit_path: '/p0' }]);
    },
  );

  it(
    'keeps one open visit of 24 pageviews at visits 1, pageviews 24, bounces 0 across batches and a worker restart',
    { timeout: 90_000 },
    async () => {
      const more = Array.from({ length: 23 }, (_, k) =>
        pageview(siteId, 'visitor-1', k + 1, visitStart + (k + 1) * 15_000),
      );
      // Several batches, with the sessions worker replaced half-way: the new one restores the
      // checkpoint and must retract exactly what the old one committed.
      for (const [n, chunk] of [more.slice(0, 5), more.slice(5, 11), more.slice(11, 17), more.slice(17)].entries()) {
        if (n === 2) {
          await sessions.stop();
          sessions = await startSessions();
        }
        sent.push(...chunk);
        await produce(chunk);
        await eventually(
          async () =>
            (await pool.query<{ pageviews: number }>('SELECT pageviews FROM sessions WHERE site_id = $1', [siteId]))
              .rows[0]?.pageviews === sent.length,
          30_000,
          `visit has ${sent.length} pageviews`,
        );
      }
      const last = sent[sent.length - 1]!;
      // What the next refinement must retract is in the checkpoint committed with the row.
      const checkpoint = await pool.query<{
        state: {
          operators: [
            number,
            {
              state: {
                sessions: {
                  key: string;
                  acc: { pageviews: number };
                  emitted: { pane: number; acc: { pageviews: number } | null; accIsValue?: true };
                }[];
              };
            },
          ][];
        };
      }>("SELECT state FROM consumer_progress WHERE job = 'sessions'");
      const open = checkpoint.rows
        .flatMap((r) => r.state.operators.flatMap(([, op]) => op.state.sessions))
        .filter((s) => s.key === `${siteId}|visitor-1`);
      // What it emitted: its own value when that is unchanged since (written once, accIsValue).
      expect(open.map((s) => (s.emitted.accIsValue ? s.acc : s.emitted.acc)?.pageviews)).toEqual([24]);
      expect(await sessionRollups('day', '')).toEqual({
        '': { sessions: 1, bounces: 0, duration: last.ts - visitStart },
      });
      await eventually(async () => (await pageviewTotal()) === 24, 10_000, 'rollups job counted 24 pageviews');
      expect(await sessionRollups('day', 'exit_page')).toEqual({
        '/p23': { sessions: 1, bounces: 0, duration: last.ts - visitStart },
      });
      expect(Object.keys(await sessionRollups('day', 'entry_page'))).toEqual(['/p0']);

      // Plausibility on the dashboard: pages per visit, bounce rate and duration of the same one
      // open visit — Pages / visit 24, Bounce 0 %, filtered or not.
      const visit = { visits: 1, pageviews: 24, pagesPerVisit: 24, bounceRate: 0, durationMs: last.ts - visitStart };
      expect(await dashboardTiles()).toEqual({ unfiltered: visit, filtered: visit });
    },
  );

  it(
    'changes nothing when the gap closes: the totals equal the on-time-only result recomputed from the events',
    { timeout: 90_000 },
    async () => {
      const before = await Promise.all(
        ['minute', 'hour', 'day'].flatMap((g) =>
          ['', 'entry_page', 'exit_page', 'channel', 'referrer', 'device', 'browser', 'os', 'country'].map((d) =>
            sessionRollups(g, d),
          ),
        ),
      );
      const tilesBefore = await dashboardTiles();
      // Event time moves at the pace of the (fast-forwarded) clock once the partition is quiet: past
      // the gap and the allowed lateness, so the visit fires on time and is cleaned up.
      clockOffset += GAP + 10 * MINUTE;
      await eventually(
        async () => {
          const r = await pool.query<{ state: { operators: [number, { state: { sessions: unknown[] } }][] } }>(
            "SELECT state FROM consumer_progress WHERE job = 'sessions'",
          );
          return (
            r.rows.length > 0 &&
            r.rows.every((row) => row.state.operators.every(([, op]) => op.state.sessions.length === 0))
          );
        },
        30_000,
        'the visit fired on time and was cleaned up',
      );
      const after = await Promise.all(
        ['minute', 'hour', 'day'].flatMap((g) =>
          ['', 'entry_page', 'exit_page', 'channel', 'referrer', 'device', 'browser', 'os', 'country'].map((d) =>
            sessionRollups(g, d),
          ),
        ),
      );
      expect(after).toEqual(before);
      // Closing the gap changes nothing on the dashboard either.
      expect(await dashboardTiles()).toEqual(tilesBefore);
      expect(tilesBefore.unfiltered).toMatchObject({ visits: 1, pagesPerVisit: 24, bounceRate: 0 });

      // On-time only, from the events: one visit, entry and source from the first pageview, exit from the last.
      const first = sent[0]!;
      const last = sent[sent.length - 1]!;
      const visit = { sessions: 1, bounces: 0, duration: last.ts - first.ts };
      expect(await sessionRollups('day', '')).toEqual({ '': visit });
      expect(await sessionRollups('hour', '')).toEqual({ '': visit });
      expect(await sessionRollups('minute', '')).toEqual({ '': visit });
      expect(await sessionRollups('day', 'entry_page')).toEqual({ [first.path]: visit });
      expect(await sessionRollups('day', 'exit_page')).toEqual({ [last.path]: visit });
      expect(await sessionRollups('day', 'channel')).toEqual({ search: visit });
      expect(await sessionRollups('day', 'referrer')).toEqual({ 'www.google.com': visit });
      expect(await pageviewTotal()).toBe(24);
      const rows = await pool.query(
        'SELECT started_at, ended_at, pageviews, bounce, duration_ms, entry_path, exit_path, channel FROM sessions WHERE site_id = $1',
        [siteId],
      );
      expect(rows.rows).toEqual([
        {
          started_at: new Date(first.ts),
          ended_at: new Date(last.ts),
          pageviews: 24,
          bounce: false,
          duration_ms: last.ts - first.ts,
          entry_path: first.path,
          exit_path: last.path,
          channel: 'search',
        },
      ]);
    },
  );
});
