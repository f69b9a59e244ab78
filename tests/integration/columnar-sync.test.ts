import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ColumnarStore } from '@/lib/analytics/columnar/store';
import { closeDb } from '@/lib/db/client';
import { setEnv } from '@/lib/env';
import { enforceRetention } from '@/lib/events/retention';
import { freshDatabase, type TestDatabase } from '../helpers/db';

// The columnar copy's sync protocol (lib/analytics/columnar/sync.ts, store.ts) against a real
// PostgreSQL: the first load, transactions that commit out of xid order, visits updated, deleted
// (tombstones) and re-inserted, the retention job's `before` tombstone, open transactions (here
// and in another database of the cluster) holding back only their own rows, and a deleted site's
// rows leaving on the site sweep. Fact rows are written directly with SQL, as the jobs write them.
// The store's clock is injected; no wall clock matters.

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-06T00:00:00.000Z');
/** Far before any real clock: enforceRetention prunes tombstones with created_at < now - 2 days. */
const RETENTION_NOW = Date.parse('2020-03-01T00:00:00.000Z');
/** Beyond 2^53: the copy must keep visitor ids exact. */
const BIG_VISITOR = 9_007_199_254_740_993n;

let d: TestDatabase;
let pool: pg.Pool;
let store: ColumnarStore;
let clock = T0;
let team: string;
let siteA: string; // the main site
let siteR: string; // retention_days = 30
let siteX: string; // deleted in the last test
const open: pg.PoolClient[] = [];

type Q = pg.Pool | pg.PoolClient;

async function site(retention: number | null): Promise<string> {
  return (
    await pool.query<{ id: string }>(
      "INSERT INTO sites (id, team_id, name, domain, public_key, allowed_hostnames, retention_days) VALUES (gen_random_uuid(), $1, 's', 's.test', $2, '{}', $3) RETURNING id",
      [team, `k-${randomUUID()}`, retention],
    )
  ).rows[0]!.id;
}

async function insertEvent(
  q: Q,
  siteId: string,
  ts: number,
  visitor: bigint,
  page: number,
  utm: number | null = null,
): Promise<void> {
  await q.query(
    `INSERT INTO event_facts (site_id, ts, event_id, visitor, kind, page, referrer, channel, utm_source, utm_medium, utm_campaign, country, device, browser, os)
     VALUES ($1, $2, gen_random_uuid(), $3, 0, $4, $5, 2, $6, NULL, $6, 7, 3, 4, 5)`,
    [siteId, new Date(ts), visitor.toString(), page, utm === null ? null : page + 1, utm],
  );
}

/** A custom event as the rollups job writes it: the archive row and its fact (kind 2), in one transaction. */
async function insertCustomEvent(
  siteId: string,
  ts: number,
  visitor: string,
  name: string,
  props?: Record<string, string | number | boolean>,
): Promise<void> {
  const id = randomUUID();
  await pool.query(
    `WITH e AS (INSERT INTO events (event_id, site_id, visitor_id, name, url, ts, record)
                VALUES ($1, $2, $3, $4, 'https://s.test/', $5, $6) RETURNING event_id)
     INSERT INTO event_facts (site_id, ts, event_id, visitor, kind, page, channel, country, device, browser, os)
     SELECT $2, $5, event_id, hashtextextended($3, 0), 2, 60, 2, 7, 3, 4, 5 FROM e`,
    [id, siteId, visitor, name, new Date(ts), JSON.stringify(props ? { props } : {})],
  );
}

/** The sessions job's upsert (workers/sessions/sessions-job.ts writeVisitFacts). */
async function upsertVisit(
  q: Q,
  siteId: string,
  startedAt: number,
  visitor: bigint,
  pageviews: number,
  entry = 1,
): Promise<void> {
  await q.query(
    `INSERT INTO visit_facts (site_id, started_at, visitor, ended_at, pageviews, duration_ms, bounce, entry_page, exit_page, referrer, channel,
       utm_source, utm_medium, utm_campaign, country, device, browser, os)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8 + 1, 3, 2, NULL, NULL, NULL, 7, 3, 4, 5)
     ON CONFLICT (site_id, started_at, visitor) DO UPDATE SET ended_at = EXCLUDED.ended_at, pageviews = EXCLUDED.pageviews,
       duration_ms = EXCLUDED.duration_ms, bounce = EXCLUDED.bounce, entry_page = EXCLUDED.entry_page, exit_page = EXCLUDED.exit_page,
       xid = DEFAULT`,
    [
      siteId,
      new Date(startedAt),
      visitor.toString(),
      new Date(startedAt + pageviews * 60_000),
      pageviews,
      pageviews * 60_000,
      pageviews === 1,
      entry,
    ],
  );
}

/** The sessions job's delete of a visit whose bounds no longer exist, with its tombstone. */
async function deleteVisit(q: Q, siteId: string, startedAt: number, visitor: bigint): Promise<void> {
  const r = await q.query(
    `WITH gone AS (
       DELETE FROM visit_facts f WHERE f.site_id = $1 AND f.visitor = $2 AND f.started_at = $3
       RETURNING f.site_id, f.visitor, f.started_at)
     INSERT INTO fact_tombstones (site_id, visitor, started_at) SELECT site_id, visitor, started_at FROM gone`,
    [siteId, visitor.toString(), new Date(startedAt)],
  );
  expect(r.rowCount).toBe(1);
}

async function begin(): Promise<{ c: pg.PoolClient }> {
  const c = await pool.connect();
  open.push(c);
  await c.query('BEGIN');
  return { c };
}

async function end(c: pg.PoolClient, how: 'COMMIT' | 'ROLLBACK' = 'COMMIT'): Promise<void> {
  await c.query(how);
  c.release();
  open.splice(open.indexOf(c), 1);
}

/** The transaction's id: assigned at its first write, so call after one. */
async function xidOf(c: pg.PoolClient): Promise<bigint> {
  return BigInt((await c.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x);
}

/** One row of a query on the copy, `{site}` replaced by the site's code. Null when the copy declines. */
async function onCopy(siteId: string, sql: string): Promise<Record<string, unknown> | null> {
  const r = await store.reader(siteId);
  if (!r) return null;
  try {
    return (await r.conn.runAndReadAll(sql.replaceAll('{site}', String(r.site)))).getRowObjects()[0]!;
  } finally {
    r.conn.closeSync();
  }
}

async function copyCount(siteId: string, table: 'event_facts' | 'visit_facts', where = 'true'): Promise<number> {
  const row = await onCopy(siteId, `SELECT count(*)::INTEGER AS n FROM ${table} WHERE site = {site} AND (${where})`);
  expect(row, 'the copy answers').not.toBeNull();
  return row!.n as number;
}

async function pgCount(siteId: string, table: 'event_facts' | 'visit_facts', where = 'true'): Promise<number> {
  return (
    await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE site_id = $1 AND (${where})`, [
      siteId,
    ])
  ).rows[0]!.n;
}

/** Counts and sums (as text: exact) of both tables for a site, the same in the copy and in PostgreSQL. */
async function fingerprint(siteId: string): Promise<{ pg: unknown; copy: unknown }> {
  const evPg = (
    await pool.query(
      `SELECT count(*)::text AS n, sum(visitor)::text AS visitors, sum((extract(epoch FROM ts) * 1000)::int8)::text AS ts,
              sum(page)::text AS pages, count(utm_source)::text AS utm, sum(coalesce(utm_campaign, 0))::text AS campaigns
         FROM event_facts WHERE site_id = $1`,
      [siteId],
    )
  ).rows[0];
  const viPg = (
    await pool.query(
      `SELECT count(*)::text AS n, sum(visitor)::text AS visitors, sum((extract(epoch FROM started_at) * 1000)::int8)::text AS started,
              sum((extract(epoch FROM ended_at) * 1000)::int8)::text AS ended, sum(pageviews)::text AS pageviews,
              sum(duration_ms)::text AS duration, count(*) FILTER (WHERE bounce)::text AS bounces, sum(entry_page + exit_page)::text AS pages
         FROM visit_facts WHERE site_id = $1`,
      [siteId],
    )
  ).rows[0];
  const evCopy = await onCopy(
    siteId,
    `SELECT count(*)::VARCHAR AS n, sum(visitor)::VARCHAR AS visitors, sum(ts)::VARCHAR AS ts, sum(page)::VARCHAR AS pages,
            count(utm_source)::VARCHAR AS utm, sum(coalesce(utm_campaign, 0))::VARCHAR AS campaigns
       FROM event_facts WHERE site = {site}`,
  );
  const viCopy = await onCopy(
    siteId,
    `SELECT count(*)::VARCHAR AS n, sum(visitor)::VARCHAR AS visitors, sum(started_at)::VARCHAR AS started,
            sum(ended_at)::VARCHAR AS ended, sum(pageviews)::VARCHAR AS pageviews, sum(duration_ms)::VARCHAR AS duration,
            (count(*) FILTER (WHERE bounce))::VARCHAR AS bounces, sum(entry_page + exit_page)::VARCHAR AS pages
       FROM visit_facts WHERE site = {site}`,
  );
  return { pg: { events: evPg, visits: viPg }, copy: { events: evCopy, visits: viCopy } };
}

beforeAll(async () => {
  d = await freshDatabase('columnar_sync');
  setEnv({ DATABASE_URL: d.url });
  pool = new pg.Pool({ connectionString: d.url, max: 8 });
  pool.on('error', () => undefined);
  team = (await pool.query<{ id: string }>("INSERT INTO teams (id, name) VALUES (gen_random_uuid(), 't') RETURNING id"))
    .rows[0]!.id;
  // Kept forever, but for siteR: the retention run touches siteR only and drops no partition.
  siteA = await site(null);
  siteR = await site(30);
  siteX = await site(null);
  store = new ColumnarStore(
    () => pool,
    '1GB',
    () => clock,
  );
});

/** A test that failed half-way leaves no transaction open to hold the copy back for the next. */
async function rollbackOpen(): Promise<void> {
  for (const c of open.splice(0)) {
    await c.query('ROLLBACK').catch(() => undefined);
    c.release();
  }
}

afterEach(rollbackOpen);

afterAll(async () => {
  await rollbackOpen();
  await store?.close();
  await closeDb();
  await pool?.end();
  await d?.drop();
});

describe('columnar copy sync', () => {
  it('the first load copies every existing row of both tables', async () => {
    for (let i = 0; i < 120; i++) {
      // Milliseconds in the timestamps, some UTM values NULL, one visitor beyond 2^53.
      await insertEvent(
        pool,
        siteA,
        T0 - 3 * DAY + i * 61_007,
        i === 7 ? BIG_VISITOR : BigInt(1000 + (i % 17)),
        10 + (i % 5),
        i % 3 ? null : i,
      );
    }
    for (let i = 0; i < 30; i++) {
      await upsertVisit(
        pool,
        siteA,
        T0 - 3 * DAY + i * 3_600_123,
        i === 3 ? BIG_VISITOR : BigInt(2000 + i),
        1 + (i % 4),
      );
    }
    for (let i = 0; i < 10; i++) await insertEvent(pool, siteX, T0 - DAY + i * 1000, BigInt(3000 + i), 50);
    await upsertVisit(pool, siteX, T0 - DAY, 3000n, 2);

    expect(await store.reader(siteA), 'declines before the load').toBeNull();
    expect(store.stats.declined).toBe(1);
    await store.start();
    expect(store.stats.ready).toBe(true);
    expect(store.stats.lastSync!.cursor.pending).toEqual([]);
    expect(store.stats.lastSync!.events).toBe(130);
    expect(store.stats.lastSync!.visits).toBe(31);

    for (const s of [siteA, siteX]) {
      const f = await fingerprint(s);
      expect(f.copy).toEqual(f.pg);
    }
    expect((await fingerprint(siteA)).copy).toMatchObject({ events: { n: '120' }, visits: { n: '30' } });
    // The visitor beyond 2^53 arrived exactly (a Number on the way would round it to ...992).
    expect(await copyCount(siteA, 'event_facts', `visitor = ${BIG_VISITOR}`)).toBe(1);
    expect(await copyCount(siteA, 'visit_facts', `visitor = ${BIG_VISITOR}`)).toBe(1);
    // A site with no facts is unknown to the copy: PostgreSQL answers.
    expect(await store.reader(siteR)).toBeNull();
  });

  it('a transaction that commits after a younger one is applied once, after it committed', async () => {
    const before = await pgCount(siteA, 'event_facts');
    const a = await begin();
    await insertEvent(a.c, siteA, T0 - DAY, 4001n, 9001);
    const xidA = await xidOf(a.c);
    const b = await begin();
    await insertEvent(b.c, siteA, T0 - DAY, 4002n, 9002);
    const xidB = await xidOf(b.c);
    expect(xidA < xidB).toBe(true);
    await end(b.c);

    await store.fresh();
    // B committed: in the copy at once, though A (older) is still open; A is pending.
    expect(store.stats.lastSync!.cursor.pending).toContain(xidA);
    expect(store.stats.lastSync!.cursor.lo > xidB).toBe(true);
    expect(await copyCount(siteA, 'event_facts', 'page = 9002')).toBe(1);
    expect(await copyCount(siteA, 'event_facts', 'page = 9001')).toBe(0);
    expect(await copyCount(siteA, 'event_facts')).toBe(before + 1);
    await store.fresh();
    expect(await copyCount(siteA, 'event_facts', 'page = 9002')).toBe(1); // not applied twice

    await end(a.c);
    await store.fresh();
    expect(store.stats.lastSync!.cursor.pending).not.toContain(xidA);
    expect(await copyCount(siteA, 'event_facts', 'page = 9001')).toBe(1);
    expect(await copyCount(siteA, 'event_facts', 'page = 9002')).toBe(1);
    expect(await copyCount(siteA, 'event_facts')).toBe(before + 2);
    await store.fresh();
    const f = await fingerprint(siteA);
    expect(f.copy).toEqual(f.pg);
  });

  it('a visit updated in place is replaced, a deleted one goes, a re-inserted one comes back', async () => {
    const at = (i: number) => T0 - 2 * DAY + i * 60_000;
    for (let i = 1; i <= 5; i++) await upsertVisit(pool, siteA, at(i), BigInt(5000 + i), 1, 700);
    await store.fresh();
    expect(await copyCount(siteA, 'visit_facts', 'entry_page = 700')).toBe(5);

    // 1: updated in place by a later transaction (the upsert sets xid again).
    await upsertVisit(pool, siteA, at(1), 5001n, 4, 700);
    // 2: deleted, with its tombstone.
    await deleteVisit(pool, siteA, at(2), 5002n);
    // 3: deleted, then inserted again by a later transaction, both in one sync window.
    await deleteVisit(pool, siteA, at(3), 5003n);
    await upsertVisit(pool, siteA, at(3), 5003n, 3, 700);
    await store.fresh();
    const one = (i: number) =>
      onCopy(
        siteA,
        `SELECT count(*)::INTEGER AS n, max(pageviews) AS pv FROM visit_facts WHERE site = {site} AND visitor = ${5000 + i}`,
      );
    expect(await one(1)).toEqual({ n: 1, pv: 4 });
    expect(await one(2)).toEqual({ n: 0, pv: null });
    expect(await one(3)).toEqual({ n: 1, pv: 3 });

    // 4: deleted in one window, inserted again in the next.
    await deleteVisit(pool, siteA, at(4), 5004n);
    await store.fresh();
    expect(await one(4)).toEqual({ n: 0, pv: null });
    await upsertVisit(pool, siteA, at(4), 5004n, 2, 700);
    await store.fresh();
    expect(await one(4)).toEqual({ n: 1, pv: 2 });

    // 5: re-inserted by an older transaction than the one that deleted it (its row's xid is below
    // the tombstone's): the tombstone must not take the new row.
    const older = await begin();
    await insertEvent(older.c, siteA, T0 - DAY, 4003n, 9003); // takes its xid now
    const xidOlder = await xidOf(older.c);
    const del = await begin();
    await deleteVisit(del.c, siteA, at(5), 5005n);
    expect(xidOlder < (await xidOf(del.c))).toBe(true);
    await end(del.c);
    await upsertVisit(older.c, siteA, at(5), 5005n, 6, 700);
    await store.fresh();
    // As PostgreSQL has it now: the delete committed, the older transaction's re-insert not yet.
    expect(await one(5)).toEqual({ n: 0, pv: null });
    await end(older.c);
    await store.fresh();
    expect(await one(5)).toEqual({ n: 1, pv: 6 });

    expect(await copyCount(siteA, 'visit_facts', 'entry_page = 700')).toBe(4);
    const f = await fingerprint(siteA);
    expect(f.copy).toEqual(f.pg);
  });

  it("the retention job's delete leaves the copy without the rows before the horizon", async () => {
    const horizon = RETENTION_NOW - 30 * DAY;
    const ages = [45, 31, 29, 2]; // days before RETENTION_NOW: two past the horizon, two within
    for (const [i, age] of ages.entries()) {
      await insertEvent(pool, siteR, RETENTION_NOW - age * DAY, BigInt(6000 + i), 60);
      await insertEvent(pool, siteR, RETENTION_NOW - age * DAY + 1234, BigInt(6000 + i), 61);
      await upsertVisit(pool, siteR, RETENTION_NOW - age * DAY, BigInt(6000 + i), 2);
    }
    await store.fresh();
    expect(await copyCount(siteR, 'event_facts')).toBe(8);
    expect(await copyCount(siteR, 'visit_facts')).toBe(4);

    await enforceRetention(pool, RETENTION_NOW);
    expect(await pgCount(siteR, 'event_facts')).toBe(4);
    expect(await pgCount(siteR, 'visit_facts')).toBe(2);
    const tomb = await pool.query<{ before: Date }>(
      'SELECT before FROM fact_tombstones WHERE site_id = $1 AND before IS NOT NULL',
      [siteR],
    );
    expect(tomb.rows.map((r) => r.before.getTime())).toEqual([horizon]);

    await store.fresh();
    expect(await copyCount(siteR, 'event_facts', `ts < ${horizon}`)).toBe(0);
    expect(await copyCount(siteR, 'visit_facts', `started_at < ${horizon}`)).toBe(0);
    expect(await copyCount(siteR, 'event_facts', `ts >= ${horizon}`)).toBe(4);
    expect(await copyCount(siteR, 'visit_facts', `started_at >= ${horizon}`)).toBe(2);
    for (const s of [siteR, siteA]) {
      const f = await fingerprint(s);
      expect(f.copy).toEqual(f.pg);
    }
  });

  it("custom events arrive with their name and properties as text, and leave with the retention job's delete", async () => {
    const horizon = RETENTION_NOW - 30 * DAY;
    await insertCustomEvent(siteR, RETENTION_NOW - 45 * DAY, 'cv1', 'Signup', { plan: 'pro', seats: 3, trial: true });
    await insertCustomEvent(siteR, RETENTION_NOW - 2 * DAY, 'cv2', 'Signup', { plan: `it's "free"` });
    await insertCustomEvent(siteR, RETENTION_NOW - 2 * DAY + 1, 'cv3', 'Download');
    const rows = async () => {
      const r = await store.reader(siteR);
      expect(r, 'the copy answers').not.toBeNull();
      try {
        return (
          await r!.conn.runAndReadAll(
            `SELECT ts, visitor::VARCHAR AS visitor, name, pkey, pval FROM custom_events WHERE site = ${r!.site} ORDER BY ts, pkey NULLS FIRST`,
          )
        ).getRowObjects();
      } finally {
        r!.conn.closeSync();
      }
    };
    const hash = async (v: string) =>
      (await pool.query<{ h: string }>('SELECT hashtextextended($1, 0)::text AS h', [v])).rows[0]!.h;
    await store.fresh();
    const t1 = BigInt(RETENTION_NOW - 45 * DAY);
    const t2 = BigInt(RETENTION_NOW - 2 * DAY);
    // A row per event without a key, one per property: a number and a boolean as ->> reads them.
    expect(await rows()).toEqual([
      { ts: t1, visitor: await hash('cv1'), name: 'Signup', pkey: null, pval: null },
      { ts: t1, visitor: await hash('cv1'), name: 'Signup', pkey: 'plan', pval: 'pro' },
      { ts: t1, visitor: await hash('cv1'), name: 'Signup', pkey: 'seats', pval: '3' },
      { ts: t1, visitor: await hash('cv1'), name: 'Signup', pkey: 'trial', pval: 'true' },
      { ts: t2, visitor: await hash('cv2'), name: 'Signup', pkey: null, pval: null },
      { ts: t2, visitor: await hash('cv2'), name: 'Signup', pkey: 'plan', pval: `it's "free"` },
      { ts: t2 + 1n, visitor: await hash('cv3'), name: 'Download', pkey: null, pval: null },
    ]);
    await enforceRetention(pool, RETENTION_NOW);
    await store.fresh();
    expect((await rows()).map((r) => [r.name, r.pkey])).toEqual([
      ['Signup', null],
      ['Signup', 'plan'],
      ['Download', null],
    ]);
    expect((await rows()).every((r) => (r.ts as bigint) >= BigInt(horizon))).toBe(true);
  });

  it('open transactions hold back only their own rows: commits around them are in the copy at once, theirs when they end', async () => {
    const before = await pgCount(siteA, 'event_facts');
    const t1 = await begin();
    await insertEvent(t1.c, siteA, T0 - DAY, 4200n, 9200);
    const x1 = await xidOf(t1.c);
    const t2 = await begin();
    await insertEvent(t2.c, siteA, T0 - DAY, 4201n, 9201);
    const x2 = await xidOf(t2.c);
    await insertEvent(pool, siteA, T0 - DAY, 4202n, 9202); // committed after both started
    await store.fresh();
    expect(store.stats.lastSync!.cursor.pending).toEqual(expect.arrayContaining([x1, x2]));
    expect(await copyCount(siteA, 'event_facts', 'page = 9202')).toBe(1);
    expect(await copyCount(siteA, 'event_facts', 'page IN (9200, 9201)')).toBe(0);
    // The younger one ends first, then a commit after it; the older one is still open.
    await end(t2.c);
    await insertEvent(pool, siteA, T0 - DAY, 4203n, 9203);
    await store.fresh();
    expect(store.stats.lastSync!.cursor.pending).toContain(x1);
    expect(store.stats.lastSync!.cursor.pending).not.toContain(x2);
    expect(await copyCount(siteA, 'event_facts', 'page IN (9201, 9202, 9203)')).toBe(3);
    expect(await copyCount(siteA, 'event_facts', 'page = 9200')).toBe(0);
    // A rolled-back transaction leaves nothing; the older one's rows arrive when it commits.
    const t3 = await begin();
    await insertEvent(t3.c, siteA, T0 - DAY, 4204n, 9204);
    await store.fresh();
    await end(t3.c, 'ROLLBACK');
    await end(t1.c);
    await store.fresh();
    expect(store.stats.lastSync!.cursor.pending).toEqual([]);
    expect(await copyCount(siteA, 'event_facts', 'page BETWEEN 9200 AND 9204')).toBe(4);
    expect(await copyCount(siteA, 'event_facts', 'page = 9204')).toBe(0);
    expect(await copyCount(siteA, 'event_facts')).toBe(before + 4);
    const f = await fingerprint(siteA);
    expect(f.copy).toEqual(f.pg);
  });

  it('a transaction open in another database of the cluster holds nothing back', async () => {
    const other = await freshDatabase('columnar_other');
    const o = new pg.Client({ connectionString: other.url });
    await o.connect();
    try {
      await o.query('BEGIN');
      await o.query('CREATE TABLE t (x int)'); // takes a cluster-wide xid and keeps it
      await insertEvent(pool, siteA, T0 - DAY, 4300n, 9300);
      await store.fresh();
      expect(await copyCount(siteA, 'event_facts', 'page = 9300')).toBe(1);
      await o.query('ROLLBACK');
    } finally {
      await o.end();
      await other.drop();
    }
  });

  it("refuses facts with another cluster's transaction ids (a restore), retries after a back-off, and loads once they are renumbered", async () => {
    const other = new ColumnarStore(
      () => pool,
      '1GB',
      () => clock,
    );
    try {
      await pool.query(
        `INSERT INTO event_facts (site_id, ts, event_id, visitor, kind, page, referrer, channel, utm_source, utm_medium, utm_campaign, country, device, browser, os, xid)
         VALUES ($1, $2, gen_random_uuid(), 1, 0, 9500, NULL, NULL, NULL, NULL, NULL, 1, 1, 1, 1, 1099511627776)`,
        [siteA, new Date(T0 - DAY)],
      );
      await other.start();
      expect(other.stats.ready).toBe(false);
      expect(await other.reader(siteA)).toBeNull(); // PostgreSQL answers
      await other.start(); // within the back-off: no new load
      expect(other.stats.ready).toBe(false);
      await pool.query('UPDATE event_facts SET xid = DEFAULT WHERE page = 9500');
      clock += 61_000;
      await other.start();
      expect(other.stats.ready).toBe(true);
      const f = await fingerprint(siteA);
      const r = await other.reader(siteA);
      const n = (
        await r!.conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM event_facts WHERE site = ${r!.site}`)
      ).getRowObjects()[0]!.n;
      r!.conn.closeSync();
      expect(String(n)).toBe(String((f.pg as { events: { n: string } }).events.n));
    } finally {
      await other.close();
    }
  });

  it('survives its connections being terminated mid-sync (no unhandled error), and syncs again after', async () => {
    const admin = new pg.Client({ connectionString: d.url });
    await admin.connect();
    try {
      for (let round = 0; round < 5; round++) {
        const syncs = Array.from({ length: 10 }, () => store.fresh().catch(() => 'failed'));
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        );
        await Promise.all(syncs);
      }
    } finally {
      await admin.end();
    }
    await insertEvent(pool, siteA, T0 - DAY, 4400n, 9400);
    await expect
      .poll(() =>
        store.fresh().then(
          () => copyCount(siteA, 'event_facts', 'page = 9400'),
          () => -1,
        ),
      )
      .toBe(1);
    const f = await fingerprint(siteA);
    expect(f.copy).toEqual(f.pg);
  });

  it("a deleted site's rows leave the copy on the site sweep", async () => {
    const rx = await store.reader(siteX);
    expect(rx).not.toBeNull();
    const codeX = rx!.site;
    rx!.conn.closeSync();
    // A custom event with a property: its name and property rows must leave with the facts.
    await insertCustomEvent(siteX, T0 - DAY + 20_000, 'x-visitor', 'Signup', { plan: 'pro' });
    await store.fresh();
    // Any reader's connection sees the whole copy: count the deleted site's rows by its code.
    const ofX = async () =>
      (await onCopy(
        siteA,
        `SELECT (SELECT count(*) FROM event_facts WHERE site = ${codeX})::INTEGER AS e,
                (SELECT count(*) FROM visit_facts WHERE site = ${codeX})::INTEGER AS v,
                (SELECT count(*) FROM custom_events WHERE site = ${codeX})::INTEGER AS c`,
      ))!;
    expect(await ofX()).toEqual({ e: 11, v: 1, c: 2 });

    // The facts have no foreign key to sites: they stay in PostgreSQL, and no tombstone is written.
    await pool.query('DELETE FROM sites WHERE id = $1', [siteX]);
    expect(await pgCount(siteX, 'event_facts')).toBe(11);
    await store.fresh();
    expect(await ofX(), 'the sweep runs once a minute').toEqual({ e: 11, v: 1, c: 2 });

    clock += 61_000;
    await store.fresh();
    expect(await ofX()).toEqual({ e: 0, v: 0, c: 0 });
    for (const s of [siteA, siteR]) {
      const f = await fingerprint(s);
      expect(f.copy).toEqual(f.pg);
    }
  });

  it('a deleted site keeps its code: reader() answers for it, from no rows', async () => {
    // The sweep drops the rows but not the site's code (store.ts sweepDeletedSites), so the copy
    // answers for a deleted site, with nothing, as PostgreSQL does once eraseSite has run. Queries
    // only ever name sites that exist; were the sweep to forget the code, this would be null.
    const reads = store.stats.reads;
    const r = await store.reader(siteX);
    try {
      expect(r).not.toBeNull();
      expect(store.stats.reads).toBe(reads + 1);
      const n = (
        await r!.conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM event_facts WHERE site = ${r!.site}`)
      ).getRowObjects()[0]!.n;
      expect(n).toBe(0);
    } finally {
      r?.conn.closeSync();
    }
  });
});
