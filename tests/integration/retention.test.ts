import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { ensureDailyPartitions } from '@/lib/events/archive';
import { pipelineOverview } from '@/lib/pipeline/overview';
import { retentionJob } from '@/workers/retention/retention-job';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// Retention (issue 16 §2) at a fixed instant: day partitions wholly past every site's horizon are
// dropped, a site with a shorter retention loses its older rows one by one, rollups stay, a site
// that keeps forever keeps every partition, and the archive's size per site is measured.

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-06T09:30:00.000Z');
let d: TestDatabase;
let pool: pg.Pool;
let team: string;

const days = [200, 100, 60, 10, 0].map((ago) => Math.floor((NOW - ago * DAY) / DAY) * DAY);

async function site(retention: number | null): Promise<string> {
  const id = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames, retention_days) VALUES (gen_random_uuid(), $1, 's', 's.test', $2, '{}', $3) RETURNING id",
      [team, `k-${randomUUID()}`, retention],
    )
  ).rows[0]!.id;
  for (const day of days) {
    await pool.query(
      "INSERT INTO events (event_id, site_id, visitor_id, name, url, ts, record) VALUES (gen_random_uuid(), $1, 'v', 'pageview', 'https://s.test/', $2, '{}')",
      [id, new Date(day + 3_600_000)],
    );
    await pool.query(
      "INSERT INTO sessions (site_id, visitor_id, started_at, ended_at, duration_ms, pageviews, events, entry_path, exit_path, bounce, channel, device, browser, os, source_partition) VALUES ($1, 'v', $2, $2, 0, 1, 1, '/', '/', true, 'direct', 'desktop', 'Firefox', 'Linux', 0)",
      [id, new Date(day + 3_600_000)],
    );
    await pool.query(
      "INSERT INTO rollups (site_id, granularity, bucket, dimension, value, source_partition, pageviews) VALUES ($1, 'day', $2, '', '', 0, 1)",
      [id, new Date(day)],
    );
  }
  return id;
}

const count = async (sql: string, id: string) => (await pool.query<{ n: number }>(sql, [id])).rows[0]!.n;
const partitions = async () =>
  (
    await pool.query<{ relname: string }>(
      "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1",
    )
  ).rows.map((r) => r.relname);

beforeAll(async () => {
  d = await freshDatabase('retention');
  pool = new pg.Pool({ connectionString: d.url });
  pool.on('error', () => undefined);
  setEnv({ DATABASE_URL: d.url });
  team = (await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id"))
    .rows[0]!.id;
  // The 200-days-ago day has no partition of its own: its rows sit in events_default.
  for (const day of days.slice(1)) await ensureDailyPartitions(pool, day, 0);
});
afterAll(async () => {
  await closeDb();
  await pool?.end();
  await d?.drop();
});

describe('retention', () => {
  it('drops partitions past every horizon, deletes older rows of shorter retentions, keeps rollups, and measures the archive', async () => {
    const short = await site(30);
    const long = await site(90);
    expect(await partitions()).toContain('events_2026_08_28'); // 100 days before NOW
    const job = retentionJob({ db: pool, clock: () => NOW });
    const r = await job.runOnce();
    // Only the 100-days-ago partition lies wholly before both horizons (30 and 90 days).
    expect(r!.droppedPartitions).toEqual(['events_2026_08_28']);
    expect(await partitions()).not.toContain('events_2026_08_28');
    // 30 days: the 60-day-old rows and the 200-day-old one in events_default go; 10 and 0 stay.
    expect(await count('SELECT count(*)::int AS n FROM events WHERE site_id = $1', short)).toBe(2);
    expect(await count('SELECT count(*)::int AS n FROM sessions WHERE site_id = $1', short)).toBe(2);
    // 90 days: 60, 10 and 0 stay.
    expect(await count('SELECT count(*)::int AS n FROM events WHERE site_id = $1', long)).toBe(3);
    // Rollups are the dashboard's history: untouched.
    expect(await count('SELECT count(*)::int AS n FROM rollups WHERE site_id = $1', short)).toBe(5);
    const stats = await pool.query<{ site_id: string; rows: string; bytes: string; oldest: Date }>(
      'SELECT site_id, rows::text, bytes::text, oldest FROM site_archive_stats ORDER BY rows',
    );
    expect(stats.rows.map((s) => [s.site_id, Number(s.rows)])).toEqual([
      [short, 2],
      [long, 3],
    ]);
    expect(Number(stats.rows[0]!.bytes)).toBeGreaterThan(0);
    expect(stats.rows[1]!.oldest.getTime()).toBe(days[2]! + 3_600_000);
    // The pipeline page lists each site's archive as measured.
    const page = await pipelineOverview(NOW);
    expect(page.archive.map((a) => [a.siteId, a.rows, a.retentionDays, a.measuredAt])).toEqual([
      [long, 3, 90, NOW],
      [short, 2, 30, NOW],
    ]);
    // A second pass at the same instant finds nothing more to do.
    expect(await job.runOnce()).toEqual({
      droppedPartitions: [],
      deletedEvents: 0,
      deletedSessions: 0,
      log: null,
      erasedFromLog: 0,
    });
  });

  it('a site that keeps forever keeps every partition; other sites still lose their own old rows', async () => {
    const forever = await site(null);
    const short = await site(30);
    const before = await partitions();
    const r = await retentionJob({ db: pool }).runOnce(NOW + 20 * DAY);
    expect(r!.droppedPartitions).toEqual([]);
    expect(await partitions()).toEqual(before);
    expect(await count('SELECT count(*)::int AS n FROM events WHERE site_id = $1', forever)).toBe(5);
    // 20 days later with 30 days kept: only the row of NOW's own day remains (10 days before NOW is past).
    expect(await count('SELECT count(*)::int AS n FROM events WHERE site_id = $1', short)).toBe(1);
  });

  it('sweeps dictionary values of a site deleted while a batch was adding them', async () => {
    const live = await site(30);
    const gone = randomUUID(); // a site that no longer exists
    await pool.query(
      "INSERT INTO dimension_values (site_id, dimension, value) VALUES ($1, 'page', '/kept'), ($2, 'page', '/orphan')",
      [live, gone],
    );
    await retentionJob({ db: pool }).runOnce(NOW);
    expect(await count('SELECT count(*)::int AS n FROM dimension_values WHERE site_id = $1', live)).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM dimension_values WHERE site_id = $1', gone)).toBe(0);
  });
});
