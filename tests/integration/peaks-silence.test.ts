import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentPublisher } from '@/lib/bus';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { liveSnapshot } from '@/lib/live/snapshot';
import { peaksJob } from '@/workers/peaks/peaks-job';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { jobSettings } from './support/job-settings';

// The peaks cards after a quiet spell (found by a site owner's walk-through on 2026-12-07): the
// job rebuilds its operators from the checkpoint on every pass, and its silence tracker took the
// restored watermark as "events seen" on each, counting the whole silence again every pass —
// event time ran hours ahead within minutes of quiet, the next traffic was all late, and the
// "Busiest 5 minutes" card stayed on the old peak while the header counted on.
// Around a fixed instant (noon UTC), passes driven by an injected clock.

const MINUTE = 60_000;
const T = Date.UTC(2026, 5, 15, 12, 0);
let db: TestDatabase;
let pool: pg.Pool;
let siteId: string;
const settings = jobSettings({ EVENTS_PARTITIONS: 1, OUT_OF_ORDERNESS_MS: 5000, IDLE_TIMEOUT_MS: 1500 });

beforeAll(async () => {
  db = await freshDatabase('peaks_silence');
  setEnv({ DATABASE_URL: db.url });
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
  ).rows[0]!.id;
  siteId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, timezone) VALUES (gen_random_uuid(), $1, 's', 's.test', $2, 'UTC') RETURNING id",
      [team, `k-${randomUUID()}`],
    )
  ).rows[0]!.id;
});
afterAll(async () => {
  await closeDb();
  await pool?.end();
  await db?.drop();
});

const partial = (minute: number, pageviews: number) =>
  pool.query(
    `INSERT INTO minute_partials (site_id, content_group, minute, source_partition, pageviews_delta, visitors)
     VALUES ($1, '', $2, 0, $3, NULL)`,
    [siteId, new Date(minute), pageviews],
  );

const busiest5 = async () =>
  (
    await pool.query<{ pageviews: number; window_start: Date }>(
      "SELECT pageviews, window_start FROM peak_windows WHERE site_id = $1 AND content_group = '' AND window_size_minutes = 5 AND day = $2::date",
      [siteId, new Date(T).toISOString().slice(0, 10)],
    )
  ).rows[0];

describe('peaks after a quiet spell', () => {
  it('new traffic after ten quiet minutes still makes the busiest 5 minutes', async () => {
    const dims = new SiteDimensionTable(pool);
    await dims.refresh();
    const peaks = peaksJob({ db: pool, bus: silentPublisher, dims, settings, clock: () => T });
    await partial(T, 5);
    await peaks.runOnce(T + 30_000);
    expect((await busiest5())?.pageviews).toBe(5);
    // Ten minutes without partials, a pass every 5 s as the worker's 1 s passes would.
    for (let now = T + 35_000; now < T + 10 * MINUTE + 30_000; now += 5_000) await peaks.runOnce(now);
    // Then a busier minute, at the time it happens.
    await partial(T + 10 * MINUTE, 20);
    await peaks.runOnce(T + 10 * MINUTE + 30_000);
    const row = await busiest5();
    expect(row?.pageviews).toBe(20);
    expect(row!.window_start.getTime()).toBeGreaterThan(T);
    expect(row!.window_start.getTime()).toBeLessThanOrEqual(T + 10 * MINUTE);
    // The silence is measured from the newest partial the checkpoint keeps, not from the watermark.
    const state = (
      await pool.query<{ state: { input?: { maxMinute: number } } }>(
        "SELECT state FROM consumer_progress WHERE job = 'peaks' AND topic = 'minute_partials'",
      )
    ).rows[0]!.state;
    expect(state.input?.maxMinute).toBe(T + 10 * MINUTE);
    await peaks.stop();
    // The live header's "Busiest 5 min today": that window today, nothing the next day (it once
    // showed the newest row whatever its day).
    expect((await liveSnapshot(siteId, T + 10 * MINUTE + 30_000)).peak?.pageviews).toBe(20);
    expect((await liveSnapshot(siteId, T + 24 * 60 * MINUTE)).peak).toBeNull();
  });

  it("a site created after the table's last refresh has its first peaks on its own date, not the UTC one", async () => {
    const dims = new SiteDimensionTable(pool);
    await dims.refresh();
    const team = (await pool.query<{ team_id: string }>('SELECT team_id FROM sites WHERE id = $1', [siteId])).rows[0]!
      .team_id;
    // 20:00 UTC on 2026-06-16 is 05:00 on 2026-06-17 in Tokyo.
    const tokyo = (
      await pool.query<{ id: string }>(
        "INSERT INTO sites (id, team_id, name, domain, public_key, timezone) VALUES (gen_random_uuid(), $1, 'jp', 'jp.test', $2, 'Asia/Tokyo') RETURNING id",
        [team, `k-${randomUUID()}`],
      )
    ).rows[0]!.id;
    const t = Date.UTC(2026, 5, 16, 20, 0);
    await pool.query(
      `INSERT INTO minute_partials (site_id, content_group, minute, source_partition, pageviews_delta, visitors)
       VALUES ($1, '', $2, 0, 7, NULL)`,
      [tokyo, new Date(t)],
    );
    const peaks = peaksJob({ db: pool, bus: silentPublisher, dims, settings, clock: () => t });
    for (let now = t + 30_000; now <= t + 10 * MINUTE; now += 30_000) await peaks.runOnce(now);
    await peaks.stop();
    const days = await pool.query<{ day: string }>(
      "SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS day FROM peak_windows WHERE site_id = $1",
      [tokyo],
    );
    expect(days.rows.map((r) => r.day)).toEqual(['2026-06-17']);
  });
});
