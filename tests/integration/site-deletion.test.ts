import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics, topics, type Bus } from '@/lib/bus';
import { EmbeddedBus } from '@/lib/bus/embedded';
import { KafkaBus } from '@/lib/bus/kafka';
import { setEnv } from '@/lib/env';
import { eventKey, type EventRecord } from '@/lib/events/record';
import { eraseSite, siteIdTables, unclassifiedTables } from '@/lib/sites/site-data';
import { peaksJob } from '@/workers/peaks/peaks-job';
import { retentionJob } from '@/workers/retention/retention-job';
import { rollupsJob } from '@/workers/rollups/rollups-job';
import { runJob, type RunningJob } from '@/workers/runtime';
import { sessionsJob } from '@/workers/sessions/sessions-job';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { kafkaBrokers } from '../helpers/kafka';
import { eventually } from '../helpers/wait';
import { jobSettings } from './support/job-settings';

// Site deletion (issue 16): every row of the site goes, in every table — checked table by table
// from the migrated schema, not from a list — while the stream jobs keep running and keep
// counting the other site exactly; records of the deleted site still in the bus afterwards are
// dropped, and the jobs' checkpoints no longer hold its windows (a running worker does not write
// them back). Event times sit around a fixed instant. Once with Kafka, once with the embedded log,
// where the bus is a table too: the site's records go from it at the deletion, and the ones that
// arrive afterwards with the retention job's sweep.

const T0 = Date.parse('2026-03-28T10:00:00.000Z');
let d: TestDatabase;
let pool: pg.Pool;
let bus: Bus;
let jobs: RunningJob[] = [];
let teamId: string;
let userId: string;
let siteA: string;
let siteB: string;

const pageview = (site: string, visitor: string, i: number, ts: number): EventRecord => ({
  v: 1,
  eventId: randomUUID(),
  siteId: site,
  visitorId: visitor,
  name: 'pageview',
  url: `https://del.test/p${i}`,
  hostname: 'del.test',
  path: `/p${i}`,
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
const traffic = (site: string, n: number, from: number) =>
  Array.from({ length: n }, (_, i) => pageview(site, `v${i % 5}`, i % 3, from + i * 1000));

/** Rows written by processes other than the stream jobs (web, alerts worker), inserted as they would be. */
async function seedSideTables(site: string): Promise<void> {
  const q = (sql: string, params: unknown[] = []) => pool.query(sql, [site, ...params]);
  const link = (
    await q('INSERT INTO share_links (id, site_id, token) VALUES (gen_random_uuid(), $1, $2) RETURNING id', [
      randomBytes(9).toString('hex'),
    ])
  ).rows[0].id as string;
  await pool.query("INSERT INTO auth_attempts (kind, ip, subject) VALUES ('share', '192.0.2.1', $1)", [link]);
  await q("INSERT INTO content_groups (id, site_id, name, pattern) VALUES (gen_random_uuid(), $1, 'Blog', '/blog/**')");
  const rule = (
    await q(
      "INSERT INTO alert_rules (id, site_id, name, condition, channels) VALUES (gen_random_uuid(), $1, 'r', '{}', '[]') RETURNING id",
    )
  ).rows[0].id as string;
  const ev = (
    await q(
      "INSERT INTO alert_events (rule_id, site_id, kind, dedup_key, message, payload) VALUES ($2, $1, 'firing', 'k', 'm', '{}') RETURNING id",
      [rule],
    )
  ).rows[0].id as string;
  await pool.query(
    "INSERT INTO alert_deliveries (event_id, channel, target) VALUES ($1, 'webhook', 'https://hooks.test/x')",
    [ev],
  );
  await q('INSERT INTO site_slas (site_id, target_ms) VALUES ($1, 5000)');
  await q('INSERT INTO site_freshness (site_id, measured_at, freshness_ms) VALUES ($1, $2, 100)', [new Date(T0)]);
  await q("INSERT INTO freshness_samples (site_id, at, delay_ms, source) VALUES ($1, $2, 100, 'commit')", [
    new Date(T0),
  ]);
  await q(
    'INSERT INTO sla_minutes (site_id, minute, freshness_ms, target_ms, breached) VALUES ($1, $2, 100, 5000, false)',
    [new Date(T0)],
  );
  await q(
    "INSERT INTO sla_breaches (site_id, started_at, cause, worst_ms, target_ms) VALUES ($1, $2, 'lag', 9000, 5000)",
    [new Date(T0)],
  );
  await q(
    "INSERT INTO notifications (user_id, site_id, title, body, link) VALUES ($2, $1::uuid, 't', 'b', '/sites/' || $1::text)",
    [userId],
  );
  await q('INSERT INTO digests_sent (site_id, week) VALUES ($1, $2)', [new Date(T0)]);
  await q('INSERT INTO ingestion_ledger (site_id, minute, received, accepted) VALUES ($1, $2, 3, 3)', [new Date(T0)]);
  const off = Math.floor(Math.random() * 1e9);
  await q(
    "INSERT INTO dead_letters (job, topic, partition, \"offset\", reason, site_id, value) VALUES ('rollups', 'events', 0, $2, 'apply failed: x', $1::uuid, convert_to('{\"siteId\":\"' || $1::text || '\"}', 'UTF8'))",
    [off],
  );
  // Unreadable: no site_id, but its key names the site.
  await q(
    "INSERT INTO dead_letters (job, topic, partition, \"offset\", reason, key, value) VALUES ('rollups', 'events', 0, $2, 'value is not JSON', convert_to($1 || ':visitor', 'UTF8'), '\\xdead'::bytea)",
    [off + 1],
  );
  const late = pageview(site, 'late', 9, T0 - 3_600_000);
  await q(
    "INSERT INTO late_events (event_id, site_id, ts, record, job, watermark) VALUES ($2, $1, $3, $4, 'rollups', 0)",
    [late.eventId, new Date(late.ts), JSON.stringify(late)],
  );
  await pool.query("INSERT INTO event_ids (job, event_id) VALUES ('reconcile', $1)", [late.eventId]);
  await q("INSERT INTO rollup_days (site_id, dimension, day, value, pageviews) VALUES ($1, '', $2, '', 3)", [
    new Date(T0),
  ]);
  await q("INSERT INTO rollup_day_sketches (site_id, dimension, day, value, visitors) VALUES ($1, '', $2, '', '{}')", [
    new Date(T0),
  ]);
  await q('INSERT INTO rollup_day_versions (site_id, day, source_updated_at) VALUES ($1, $2, $2)', [new Date(T0)]);
  await q('INSERT INTO site_archive_stats (site_id, rows, bytes, measured_at) VALUES ($1, 3, 300, $2)', [new Date(T0)]);
}

/** Per table of the schema: rows in which the value appears anywhere (any column, JSON and bytes included). */
async function rowsMentioning(value: string): Promise<Map<string, number>> {
  const tables = await pool.query<{ relname: string }>(
    "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY relname",
  );
  const bytea = await pool.query<{ table_name: string; column_name: string }>(
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'bytea'",
  );
  const out = new Map<string, number>();
  for (const { relname: t } of tables.rows) {
    const byteCols = bytea.rows
      .filter((c) => c.table_name === t)
      .map((c) => `position(convert_to($1, 'UTF8') IN coalesce(x."${c.column_name}", ''::bytea)) > 0`);
    const where = [`x::text LIKE '%' || $1 || '%'`, ...byteCols].join(' OR ');
    const n = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${t}" x WHERE ${where}`, [value]))
      .rows[0]!.n;
    if (n > 0) out.set(t, n);
  }
  return out;
}

async function pageviewsOf(site: string): Promise<number> {
  const r = await pool.query<{ n: number }>(
    "SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE site_id = $1 AND granularity = 'minute' AND dimension = ''",
    [site],
  );
  return r.rows[0]!.n;
}

const settings = jobSettings({ EVENTS_PARTITIONS: 2 });

describe.each(['kafka', 'embedded'] as const)('with the %s bus', (kind) => {
  beforeAll(async () => {
    setEnv({
      BUS_NAMESPACE: `del${randomBytes(3).toString('hex')}.`,
      EVENTS_PARTITIONS: String(settings.EVENTS_PARTITIONS),
    });
    d = await freshDatabase(`site_deletion_${kind}`);
    pool = new pg.Pool({ connectionString: d.url });
    pool.on('error', () => undefined);
    setEnv({ DATABASE_URL: d.url });
    userId = (
      await pool.query<{ id: string }>(
        "INSERT INTO users (id, email) VALUES (gen_random_uuid(), 'owner@del.test') RETURNING id",
      )
    ).rows[0]!.id;
    teamId = (
      await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
    ).rows[0]!.id;
    await pool.query("INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, 'owner')", [teamId, userId]);
    const site = async (name: string) =>
      (
        await pool.query<{ id: string }>(
          "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames) VALUES (gen_random_uuid(), $1, $2, 'del.test', $3, '{}') RETURNING id",
          [teamId, name, `k-${randomUUID()}`],
        )
      ).rows[0]!.id;
    siteA = await site('A');
    siteB = await site('B');
    bus = kind === 'kafka' ? new KafkaBus(kafkaBrokers()) : new EmbeddedBus(pool, d.url);
    await ensureTopics(bus);
    const dims = new SiteDimensionTable(pool);
    await dims.refresh();
    jobs = [
      await runJob(rollupsJob({ bus, db: pool, dims, settings }), bus, pool, { sessionTimeoutMs: 6000 }),
      await runJob(sessionsJob({ bus, db: pool, dims, settings }), bus, pool, { sessionTimeoutMs: 6000 }),
    ];
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(jobs.map((j) => j.stop()));
    jobs = [];
    await bus?.close();
    await pool?.end();
    await d?.drop();
  });

  describe(`site deletion (${kind})`, () => {
    it('every table of the schema is accounted for: a site_id column, or named with how it is erased or why it holds no site data', async () => {
      expect(await unclassifiedTables(pool)).toEqual([]);
      expect(await siteIdTables(pool)).toEqual(
        expect.arrayContaining([
          'events',
          'rollups',
          'sessions',
          'peak_windows',
          'ingestion_ledger',
          'alert_rules',
          'share_links',
          'dead_letters',
        ]),
      );
      // Negative control: a table that refers to sites some other way is reported, not passed over.
      await pool.query('CREATE TABLE site_notes_control (about_site uuid, note text)');
      try {
        expect(await unclassifiedTables(pool)).toEqual(['site_notes_control']);
      } finally {
        await pool.query('DROP TABLE site_notes_control');
      }
    });

    it(
      'leaves no row of the site in any table while the jobs keep counting the other site exactly',
      { timeout: 120_000 },
      async () => {
        const firstA = traffic(siteA, 30, T0);
        const firstB = traffic(siteB, 30, T0);
        await produce([...firstA, ...firstB]);
        await eventually(
          async () => (await pageviewsOf(siteA)) === 30 && (await pageviewsOf(siteB)) === 30,
          60_000,
          'both sites counted',
        );
        await eventually(
          async () =>
            (await pool.query('SELECT count(*)::int AS n FROM sessions WHERE site_id = ANY($1)', [[siteA, siteB]]))
              .rows[0].n >= 10,
          30_000,
          'visits written',
        );
        const dims = new SiteDimensionTable(pool);
        await dims.refresh();
        const peaks = peaksJob({ db: pool, bus, dims, settings, clock: () => T0 + 3_600_000 });
        await peaks.runOnce(T0 + 3_600_000);
        await seedSideTables(siteA);
        await seedSideTables(siteB);

        // The site is everywhere before: the check below can fail.
        const before = await rowsMentioning(siteA);
        const tablesOfA = [
          'sites',
          'events',
          'rollups',
          'sessions',
          'peak_windows',
          'consumer_progress',
          'share_links',
          'alert_rules',
          'alert_events',
          'notifications',
          'dead_letters',
          'late_events',
          'ingestion_ledger',
          'rollup_days',
          'site_archive_stats',
        ];
        if (kind === 'embedded') tablesOfA.push('bus_messages');
        for (const t of tablesOfA) {
          expect(before.get(t), `${t} holds site A before the deletion`).toBeGreaterThan(0);
        }
        const eventIdsOfA = (
          await pool.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM event_ids WHERE event_id IN (SELECT event_id FROM events WHERE site_id = $1)',
            [siteA],
          )
        ).rows[0]!.n;
        expect(eventIdsOfA).toBe(60); // rollups + sessions each claimed the 30 events
        const bBefore = await rowsMentioning(siteB);

        const report = await eraseSite(pool, siteA);
        expect(report.deleted.events).toBe(30);
        expect(report.deleted.consumer_progress).toBeGreaterThan(0);
        // Live notices (`live`, keyed by site) too, in the embedded log.
        if (kind === 'embedded') expect(report.deleted.bus_messages).toBeGreaterThanOrEqual(30);

        // Records of A still in the bus after the deletion, and more traffic of B on the same partitions.
        const laterA = traffic(siteA, 20, T0 + 120_000);
        const laterB = traffic(siteB, 20, T0 + 120_000);
        await produce([...laterA, ...laterB]);
        await eventually(async () => (await pageviewsOf(siteB)) === 50, 60_000, 'site B keeps being counted');
        // Both jobs have moved past A's later records (B's visits of the later traffic are written too).
        await eventually(
          async () =>
            (
              await pool.query('SELECT count(*)::int AS n FROM event_ids WHERE event_id = ANY($1)', [
                laterB.map((e) => e.eventId),
              ])
            ).rows[0].n === 40,
          30_000,
          "both jobs applied B's later events",
        );
        await peaks.runOnce(T0 + 3_700_000);
        if (kind === 'embedded') {
          // A's later records reached the log after its erasure: the retention job's sweep takes them.
          expect((await rowsMentioning(siteA)).get('bus_messages')).toBe(20);
          const pass = await retentionJob({ db: pool }).runOnce(T0 + 3_700_000);
          expect(pass?.erasedFromLog).toBe(20);
        }

        const after = await rowsMentioning(siteA);
        expect(Object.fromEntries(after), 'tables still mentioning the deleted site').toEqual({});
        const leftIds = await pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM event_ids WHERE event_id = ANY($1)',
          [[...firstA, ...laterA].map((e) => e.eventId)],
        );
        expect(leftIds.rows[0]!.n).toBe(0);
        expect(await pageviewsOf(siteB)).toBe(50);
        const events = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE site_id = $1', [
          siteB,
        ]);
        expect(events.rows[0]!.n).toBe(50);
        // B lost nothing (its later traffic only added rows).
        const bAfter = await rowsMentioning(siteB);
        for (const [t, n] of bBefore) expect(bAfter.get(t) ?? 0, `rows of B in ${t}`).toBeGreaterThanOrEqual(n);
        // Deleting again finds nothing and fails nothing (a crash half-way can be resumed).
        expect((await eraseSite(pool, siteA)).deleted).toEqual({});
      },
    );
  });
});
