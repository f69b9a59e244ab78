import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, BusMessage } from '@/lib/bus';
import type { EventRecord } from '@/lib/events/record';
import { applyRecords } from '@/workers/consumer/steps';
import { rollupsJob } from '@/workers/rollups/rollups-job';
import { SiteDimensionTable } from '@/workers/shared/dimensions';
import { freshDatabase, type TestDatabase } from '../helpers/db';
import { jobSettings } from './support/job-settings';

// The dimension table (side input) refreshes on a cadence; here the test drives the refreshes
// and the job's clock itself. A new content group shows up in results after the next refresh,
// without restarting the job, and the checkpoint records the dimension version it used.

let d: TestDatabase;
let pool: pg.Pool;
let siteId: string;
const silentBus = { producer: () => ({ send: async () => [] }) } as unknown as Bus;

beforeAll(async () => {
  d = await freshDatabase('dims');
  pool = new pg.Pool({ connectionString: d.url });
  const team = (
    await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id")
  ).rows[0]!.id;
  siteId = (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key) VALUES (gen_random_uuid(), $1, 's', 's.test', $2) RETURNING id",
      [team, `k-${randomUUID()}`],
    )
  ).rows[0]!.id;
});
afterAll(async () => {
  await pool?.end();
  await d?.drop();
});

function event(path: string, ts: number): { message: BusMessage; record: EventRecord } {
  const record: EventRecord = {
    v: 1,
    eventId: randomUUID(),
    siteId,
    visitorId: 'v1',
    name: 'pageview',
    url: `https://s.test${path}`,
    hostname: 's.test',
    path,
    channel: 'direct',
    device: 'desktop',
    browser: 'Chrome',
    os: 'Linux',
    ts,
  };
  return {
    message: { topic: 'events', partition: 0, offset: '0', key: null, value: null, timestamp: ts, headers: {} },
    record,
  };
}

async function apply(job: ReturnType<typeof rollupsJob>, e: ReturnType<typeof event>) {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const { result: r } = await applyRecords(job, c, 0, [e]);
    await c.query('COMMIT');
    return r;
  } finally {
    c.release();
  }
}

const blogPageviews = async () =>
  (
    await pool.query<{ n: number }>(
      "SELECT COALESCE(sum(pageviews), 0)::int AS n FROM rollups WHERE granularity = 'minute' AND dimension = 'content_group' AND value = 'Blog'",
    )
  ).rows[0]!.n;

describe('dimension table refresh', () => {
  it('a new content group applies after the next refresh, without a restart, and its version is checkpointed', async () => {
    const dims = new SiteDimensionTable(pool);
    let now = Date.UTC(2026, 10, 21, 12, 0);
    await dims.refresh(now);
    const job = rollupsJob({ bus: silentBus, db: pool, dims, settings: jobSettings(), clock: () => now });
    job.restore(0, null);
    const v0 = dims.table.version;

    await apply(job, event('/blog/a', now));
    expect(await blogPageviews()).toBe(0);

    await pool.query(
      "INSERT INTO content_groups (id, site_id, name, pattern) VALUES (gen_random_uuid(), $1, 'Blog', '/blog/**')",
      [siteId],
    );
    now += 1000;
    await apply(job, event('/blog/b', now));
    expect(await blogPageviews()).toBe(0); // not refreshed yet: the old snapshot is still in use

    now += 5 * 60_000;
    await dims.refresh(now);
    expect(dims.table.version).toBe(v0 + 1);
    const r = await apply(job, event('/blog/c', now));
    expect(await blogPageviews()).toBe(1);
    expect((r.state as { dimensionVersion: number }).dimensionVersion).toBe(v0 + 1);
    expect((r.state as { operator: { dimensionVersion: number } }).operator.dimensionVersion).toBe(v0 + 1);

    // A refresh that finds nothing changed keeps the version.
    await dims.refresh(now + 1000);
    expect(dims.table.version).toBe(v0 + 1);
  });

  it('a site created after the last refresh gets its own time zone and gap from its first event, not the defaults', async () => {
    const dims = new SiteDimensionTable(pool);
    // 2026-12-07 23:55 UTC is 18:55 on 2026-12-07 in New York: a UTC bucket would say 2026-12-07
    // 00:00Z, the site's day starts 2026-12-07 05:00Z.
    const now = Date.UTC(2026, 11, 7, 23, 55);
    await dims.refresh(now);
    const team = (await pool.query<{ team_id: string }>('SELECT team_id FROM sites WHERE id = $1', [siteId])).rows[0]!
      .team_id;
    const newSite = (
      await pool.query<{ id: string }>(
        "INSERT INTO sites (id, team_id, name, domain, public_key, timezone, session_gap_minutes) VALUES (gen_random_uuid(), $1, 'ny', 'ny.test', $2, 'America/New_York', 10) RETURNING id",
        [team, `k-${randomUUID()}`],
      )
    ).rows[0]!.id;
    expect(dims.site(newSite).timezone).toBe('UTC'); // not refreshed: the defaults
    const job = rollupsJob({ bus: silentBus, db: pool, dims, settings: jobSettings(), clock: () => now });
    job.restore(0, null);
    const e = event('/welcome', now - 60_000);
    e.record.siteId = newSite;
    await apply(job, e);
    expect(dims.site(newSite).timezone).toBe('America/New_York');
    expect(dims.site(newSite).sessionGapMs).toBe(10 * 60_000);
    const days = await pool.query<{ bucket: Date }>(
      "SELECT DISTINCT bucket FROM rollups WHERE site_id = $1 AND granularity = 'day'",
      [newSite],
    );
    expect(days.rows.map((r) => r.bucket.toISOString())).toEqual(['2026-12-07T05:00:00.000Z']);

    // An id that is still unknown after a refresh (a site deleted meanwhile) is not looked up
    // again with every batch.
    let loads = 0;
    const counting = new SiteDimensionTable(pool);
    const refresh = counting.refresh.bind(counting);
    counting.refresh = async (t?: number) => {
      loads++;
      await refresh(t);
    };
    const gone = randomUUID();
    await counting.ensureKnown([gone], now);
    await counting.ensureKnown([gone], now + 1_000);
    await counting.ensureKnown([gone, newSite], now + 2_000);
    expect(loads).toBe(1);
    await counting.ensureKnown([gone], now + 31_000);
    expect(loads).toBe(2);
  });

  it('jobs whose batches hold the same new site at once all wait for its settings; an older overlapping refresh does not undo them', async () => {
    const team = (await pool.query<{ team_id: string }>('SELECT team_id FROM sites WHERE id = $1', [siteId])).rows[0]!
      .team_id;
    const newSite = async (tz: string) =>
      (
        await pool.query<{ id: string }>(
          'INSERT INTO sites (id, team_id, name, domain, public_key, timezone) VALUES (gen_random_uuid(), $1, $2, $3, $4, $5) RETURNING id',
          [team, tz, `${randomUUID()}.test`, `k-${randomUUID()}`, tz],
        )
      ).rows[0]!.id;
    // The four event jobs of a worker share one table and get the same batch at about the same time.
    const dims = new SiteDimensionTable(pool);
    await dims.refresh();
    const tokyo = await newSite('Asia/Tokyo');
    const seen = await Promise.all(
      [0, 1, 2, 3].map(async () => {
        await dims.ensureKnown([tokyo]);
        return dims.site(tokyo).timezone;
      }),
    );
    expect(seen).toEqual(['Asia/Tokyo', 'Asia/Tokyo', 'Asia/Tokyo', 'Asia/Tokyo']);

    // A cadence refresh that read the sites before the new one existed and finishes last.
    let slowFirst = true;
    const slowPool = {
      query: async (...args: Parameters<pg.Pool['query']>) => {
        const r = await (pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
        if (slowFirst) {
          slowFirst = false;
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        return r;
      },
    } as unknown as pg.Pool;
    const racing = new SiteDimensionTable(slowPool);
    const cadence = racing.refresh();
    await new Promise((resolve) => setTimeout(resolve, 50)); // it has read the sites by now
    const lima = await newSite('America/Lima');
    await racing.ensureKnown([lima]);
    expect(racing.site(lima).timezone).toBe('America/Lima');
    await cadence;
    expect(racing.site(lima).timezone).toBe('America/Lima');
  });
});
